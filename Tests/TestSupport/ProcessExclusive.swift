import Testing

/// Runs each test of a suite alone among the tests that start processes or handle signals, in
/// every test module: they share the process's children, signal handlers and reapers, so two at
/// once would see (or reap) each other's processes. Other tests still run in parallel, and plain
/// `swift test` (parallel) passes as `swift test --no-parallel` does.
public struct ProcessExclusive: SuiteTrait, TestTrait, TestScoping {
    public var isRecursive: Bool { true }

    public func scopeProvider(for test: Test, testCase: Test.Case?) -> ProcessExclusive? {
        testCase == nil ? nil : self
    }

    public func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        await ProcessTestLock.shared.acquire()
        do {
            try await function()
        } catch {
            await ProcessTestLock.shared.release()
            throw error
        }
        await ProcessTestLock.shared.release()
    }
}

extension Trait where Self == ProcessExclusive {
    /// Each test alone among the process and signal tests of every module.
    public static var processExclusive: ProcessExclusive { ProcessExclusive() }
}

/// A lock that suspends its waiters instead of blocking their threads.
actor ProcessTestLock {
    static let shared = ProcessTestLock()
    private var held = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func acquire() async {
        guard held else {
            held = true
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    func release() {
        if waiters.isEmpty {
            held = false
        } else {
            waiters.removeFirst().resume()
        }
    }
}
