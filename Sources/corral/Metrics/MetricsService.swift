import CoreMetrics
import CorralEngine
import Prometheus

/// Everything `--metrics` runs: the recorder of the engine's events, the sampler of the
/// processes' CPU and memory, and the HTTP endpoint, over one Prometheus registry.
final class MetricsService {
    /// The HTTP server.
    let endpoint: MetricsEndpoint
    private let recorder: CorralMetrics
    private let resources: ResourceMetrics
    private var finished = false

    /// Serves on `address` the metrics of a run of `workers` workers and `slots` configured
    /// processes in all (named `names` in a run of programs).
    init(address: MetricsAddress, workers: Int, names: [ProcessName], slots: Int) throws {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets = [
            "corral_process_ready_seconds": CorralMetrics.readyBuckets,
            "corral_reload_duration_seconds": CorralMetrics.reloadBuckets,
        ]
        endpoint = try MetricsEndpoint(host: address.host, port: address.port, registry: registry)
        do {
            resources = try ResourceMetrics(factory: factory)
        } catch {
            endpoint.finish()
            throw error
        }
        recorder = CorralMetrics(factory: factory, resources: resources, workers: workers, names: names, slots: slots)
    }

    /// Records the event, which happened at `instant` (on the supervisor's thread, before the
    /// next event).
    func handle(_ event: EngineEvent, at instant: ContinuousClock.Instant) {
        recorder.handle(event, now: instant)
        if case .serverStateChanged(let state) = event { endpoint.serverStateChanged(state) }
    }

    /// The end of a turn of the supervisor's loop, with the lines dropped so far.
    func endTurn(outputDroppedLines: Int, logDroppedLines: Int) {
        recorder.endTurn(outputDroppedLines: outputDroppedLines, logDroppedLines: logDroppedLines)
    }

    /// Stops sampling and serving (once).
    func finish() {
        guard !finished else { return }
        finished = true
        resources.finish()
        endpoint.finish()
    }
}

/// `--metrics`' `HOST:PORT` (`127.0.0.1:9100`, `[::1]:9100`, `localhost:9100`; `:9100` for every
/// interface).
struct MetricsAddress: Equatable, CustomStringConvertible {
    var host: String
    var port: Int

    /// Parses `text`; nil with the reason when it is not an address.
    static func parse(_ text: String) -> Result<MetricsAddress, MetricsAddressError> {
        guard let colon = text.lastIndex(of: ":") else {
            return .failure(MetricsAddressError("--metrics wants HOST:PORT (e.g. 127.0.0.1:9100), got '\(text)'"))
        }
        var host = String(text[..<colon])
        let portText = text[text.index(after: colon)...]
        guard let port = Int(portText), (0...65535).contains(port) else {
            return .failure(MetricsAddressError("--metrics: '\(portText)' is not a port (0-65535) in '\(text)'"))
        }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if host.isEmpty { host = "0.0.0.0" }
        guard !host.contains(":") || text.hasPrefix("[") else {
            return .failure(MetricsAddressError("--metrics: write an IPv6 address in brackets, e.g. [::1]:9100"))
        }
        // No host name is looked up: the static binary reads /etc/hosts itself but would load the
        // system's NSS modules (another glibc's) for any other name.
        guard isAddressLiteral(host) else {
            return .failure(
                MetricsAddressError("--metrics: '\(host)' is not an IP address or localhost (in '\(text)')"))
        }
        return .success(MetricsAddress(host: host, port: port))
    }

    var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// Why `--metrics`' value is not an address.
struct MetricsAddressError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
