import Glibc

/// Whether `host` is an IPv4 or IPv6 literal or `localhost`: the hosts corral takes anywhere
/// (`--listen`, the probes, `--metrics`), since it looks no name up.
package func isAddressLiteral(_ host: String) -> Bool { SocketAddress(host: host, port: 0) != nil }

/// An IPv4 or IPv6 socket address built from a literal (or `localhost`, taken as 127.0.0.1):
/// no name is looked up, so building one never blocks.
struct SocketAddress {
    var storage: sockaddr_storage
    var length: socklen_t
    var family: CInt

    /// The address of `host` (an IP literal or `localhost`) and `port`; nil for anything else.
    init?(host: String, port: UInt16) {
        let literal = host == "localhost" ? "127.0.0.1" : host
        var storage = sockaddr_storage()
        let parsed: Bool
        let length: Int
        family = literal.contains(":") ? AF_INET6 : AF_INET
        if family == AF_INET6 {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = port.bigEndian
            parsed = inet_pton(AF_INET6, literal, &address.sin6_addr) == 1
            length = MemoryLayout<sockaddr_in6>.size
            withUnsafeBytes(of: address) { bytes in withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: bytes) }
            }
        } else {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = port.bigEndian
            parsed = inet_pton(AF_INET, literal, &address.sin_addr) == 1
            length = MemoryLayout<sockaddr_in>.size
            withUnsafeBytes(of: address) { bytes in withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: bytes) }
            }
        }
        guard parsed else { return nil }
        self.storage = storage
        self.length = socklen_t(length)
    }

    /// `host:port`, with an IPv6 host in brackets.
    static func endpoint(host: String, port: Int) -> String {
        let literal = host == "localhost" ? "127.0.0.1" : host
        return literal.contains(":") ? "[\(literal)]:\(port)" : "\(literal):\(port)"
    }
}
