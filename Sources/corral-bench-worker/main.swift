// The Swift worker the benchmark starts: trivial init, report ready, trivial shutdown.
import CorralEngine

let server = Server(configuration: SupervisorConfiguration(workers: 1))
_ = try server.run { worker in
    _ = await worker.waitForStop()
}
