import CorralTestSupport
import Foundation
import Testing

/// The README's "Past one machine" files (Examples/prometheus, Examples/kubernetes) are what
/// their tools accept, and they fit the real corral: promtool checks the scrape config and runs
/// the alert rules' cases, the alerts name metrics and labels a real corral serves, and the pod's
/// container command, probes and grace period work when run here.
@Suite("deployment examples", .processExclusive)
struct DeploymentExampleTests {
    static let examples = TestPython.root.appendingPathComponent("Examples")

    @Test(
        "promtool accepts the scrape config and the alert rules, and the rules' cases pass",
        .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/promtool")))
    func promtool() throws {
        let directory = Self.examples.appendingPathComponent("prometheus").path
        let config = try runProgram("/usr/bin/promtool", ["check", "config", directory + "/prometheus.yml"])
        #expect(config.status == 0, "\(config.stdout)\(config.stderr)")
        let rules = try runProgram(
            "/bin/sh", ["-c", "cd \"$0\" && exec /usr/bin/promtool test rules corral-alerts.test.yml", directory])
        #expect(rules.status == 0 && rules.stdout.contains("SUCCESS"), "\(rules.stdout)\(rules.stderr)")
    }

    @Test(
        "the pod's command, readiness probe, liveness probe and grace period, run for real; the alerts' metrics exist")
    func kubernetesPod() throws {
        let python = try TestPython.with(["pyyaml"])
        let manifest = Self.examples.appendingPathComponent("kubernetes/hello.yaml").path
        let script = """
            import json, sys, yaml
            documents = list(yaml.safe_load_all(open(sys.argv[1])))
            deployment = next(d for d in documents if d["kind"] == "Deployment")
            pod = deployment["spec"]["template"]["spec"]
            container = pod["containers"][0]
            ports = {p["name"]: p["containerPort"] for p in container["ports"]}
            print(json.dumps({
                "grace": pod["terminationGracePeriodSeconds"],
                "command": container["command"],
                "readiness": container["readinessProbe"]["exec"]["command"],
                "liveness_path": container["livenessProbe"]["httpGet"]["path"],
                "liveness_port": ports[container["livenessProbe"]["httpGet"]["port"]],
                "kinds": [d["kind"] for d in documents],
            }))
            """
        let parsed = try runProgram(python, ["-c", script, manifest])
        try #require(parsed.status == 0, "\(parsed.stderr)")
        let pod = try #require(try JSONSerialization.jsonObject(with: Data(parsed.stdout.utf8)) as? [String: Any])
        let command = try #require(pod["command"] as? [String])
        let readiness = try #require(pod["readiness"] as? [String])
        #expect(pod["kinds"] as? [String] == ["Deployment", "Service"])
        #expect(command.first == "corral" && readiness == ["corral", "ctl", "status", "--ready"])
        #expect(pod["liveness_path"] as? String == "/healthz")
        // The grace period outlasts corral's own SIGKILL deadline; the liveness port is --metrics'.
        let waitTimeout = try #require(command.firstIndex(of: "--wait-timeout").flatMap { Int(command[$0 + 1]) })
        #expect((pod["grace"] as? Int ?? 0) > waitTimeout)
        let metricsAt = try #require(command.firstIndex(of: "--metrics"))
        #expect(command[metricsAt + 1] == ":\(pod["liveness_port"] as? Int ?? 0)")

        // The container's command as it is, with loopback addresses of free ports and a stand-in
        // server; the probes against it, in a runtime directory of its own.
        let runtime = FileManager.default.temporaryDirectory.appendingPathComponent("corral-pod-\(getpid())").path
        try FileManager.default.createDirectory(atPath: runtime, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: runtime) }
        let metricsPort = freePort()
        var arguments = Array(command.dropFirst())
        // command[metricsAt + 1], the address, is arguments[metricsAt] (the program name dropped).
        arguments[metricsAt] = "127.0.0.1:\(metricsPort)"
        if let listen = arguments.firstIndex(of: "--listen") { arguments[listen + 1] = "127.0.0.1:\(freePort())" }
        let terminator = try #require(arguments.firstIndex(of: "--"))
        arguments = Array(arguments[...terminator]) + ["/bin/sh", "-c", "exec sleep 60"]
        let environment = ["/usr/bin/env", "XDG_RUNTIME_DIR=\(runtime)"]
        let corral = try RunningProgram(environment[0], Array(environment.dropFirst()) + [corralExecutable] + arguments)
        defer {
            kill(corral.pid, SIGKILL)
            corral.wait()
        }
        let probe = {
            try runProgram(environment[0], Array(environment.dropFirst()) + [corralExecutable] + readiness.dropFirst())
        }
        #expect(
            eventually(within: .seconds(15)) { (try? probe().status) == 0 }, "\(corral.stdout)\(corral.stderr)")
        #expect(MetricsEndToEndTests.get(metricsPort, "/healthz") == (200, "ok\n"))

        // Every metric the alerts read, with the labels they match on, is served.
        let alerts = try String(
            contentsOf: Self.examples.appendingPathComponent("prometheus/corral-alerts.yml"), encoding: .utf8)
        let exposition = MetricsEndToEndTests.scrape(metricsPort)
        let names = Set(
            alerts.matches(of: /corral_[a-z_]+/).map { String($0.output) })
        #expect(names == ["corral_process_restarts_total", "corral_processes"])
        for name in names { #expect(exposition.value(name) != nil, "\(name) not served") }
        #expect(exposition.value("corral_process_restarts_total", ["reason": "requested"]) != nil)
        for state in ["pending", "initializing", "unhealthy", "backoff"] {
            #expect(exposition.value("corral_processes", ["state": state]) != nil, "state \(state)")
        }

        // A pod's deletion: SIGTERM to PID 1, every worker stops well before the grace period.
        kill(corral.pid, SIGTERM)
        #expect(corral.wait(timeout: .seconds(TimeInterval(waitTimeout) + 5)) == 0, "\(corral.stdout)\(corral.stderr)")
    }
}
