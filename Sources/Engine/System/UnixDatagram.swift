import CProcessShims
import Glibc
import SystemPackage

/// A connected `AF_UNIX` datagram socket whose sends never block: a datagram the receiver has
/// no room for is not sent, and the caller is told (the systemd journal's native socket).
package final class UnixDatagram {
    private let descriptor: CInt

    /// A socket connected to the one bound at `path`.
    package init(connectingTo path: String) throws(SystemCallError) {
        let fd = corral_unix_datagram_connect(path)
        guard fd >= 0 else { throw SystemCallError("connect", errno: Errno(rawValue: Glibc.errno), context: path) }
        descriptor = fd
    }

    deinit { Syscalls.close(descriptor) }

    /// Sends `bytes` as one datagram; false when it was not sent (the receiver is full or gone,
    /// the datagram too large).
    package func send(_ bytes: [UInt8]) -> Bool {
        while true {
            let sent = bytes.withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, CInt(MSG_NOSIGNAL)) }
            if sent >= 0 { return true }
            if Glibc.errno != EINTR { return false }
        }
    }
}
