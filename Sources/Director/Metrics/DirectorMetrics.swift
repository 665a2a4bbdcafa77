import FluentKit
import Foundation
import Hummingbird
import Prometheus
import Synchronization

/// What `GET /metrics` shows, in Prometheus' text format: tasks by state (counted at scrape time),
/// how long tasks took by type and outcome, and HTTP request latency by method, route and status.
public final class DirectorMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    static let taskStates = ["queued", "processing", "cancelling", "done", "error", "cancelled", "timeout"]
    static let taskBuckets: [Duration] = [.milliseconds(100), .seconds(1), .seconds(10), .seconds(60), .seconds(300), .seconds(1800)]
    static let requestBuckets: [Duration] = [
        .milliseconds(1), .milliseconds(5), .milliseconds(25), .milliseconds(100), .milliseconds(500), .seconds(2), .seconds(10),
    ]

    /// The health monitor's view of agents, when the director runs one.
    public var health: HealthBoard? {
        get { board.withLock { $0 } }
        set { board.withLock { $0 = newValue } }
    }
    private let board = Mutex<HealthBoard?>(nil)

    public init() {}

    func taskFinished(type: String, state: String, duration: Duration) {
        registry.makeDurationHistogram(
            descriptor: .init(namespace: "bosun", metricName: "task_duration", unitName: "seconds", helpText: "Task run time by type and final state"),
            labels: [("type", type), ("state", state)], buckets: Self.taskBuckets
        ).record(duration)
    }

    func requestFinished(method: String, route: String, status: Int, duration: Duration) {
        registry.makeDurationHistogram(
            descriptor: .init(namespace: "bosun", metricName: "http_request_duration", unitName: "seconds", helpText: "API request latency"),
            labels: [("method", method), ("route", route), ("status", String(status))], buckets: Self.requestBuckets
        ).record(duration)
    }

    /// The exposition text, with the task gauges read from the database now.
    func render(database: any Database) async throws -> String {
        for state in Self.taskStates {
            let count = try await TaskRecord.query(on: database).filter(\.$state == state).count()
            registry.makeGauge(
                descriptor: .init(namespace: "bosun", metricName: "tasks", unitName: "", helpText: "Tasks by state"), labels: [("state", state)]
            ).set(Double(count))
        }
        if let counts = health?.counts {
            registry.makeGauge(descriptor: .init(namespace: "bosun", metricName: "agents", unitName: "", helpText: "Agents the health monitor expects"))
                .set(Double(counts.known))
            registry.makeGauge(
                descriptor: .init(namespace: "bosun", metricName: "agents_timed_out", unitName: "", helpText: "Agents silent past hm.agent_timeout")
            ).set(Double(counts.timedOut))
        }
        return registry.emitToString()
    }
}

/// Times every request for `bosun_http_request_duration_seconds`, labelled by the matched route
/// (not the raw path, so ids do not multiply the series).
struct RequestMetrics: RouterMiddleware {
    typealias Context = DirectorRequestContext
    let metrics: DirectorMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        do {
            let response = try await next(request, context)
            metrics.requestFinished(
                method: request.method.rawValue, route: context.endpointPath ?? "unmatched", status: response.status.code,
                duration: ContinuousClock.now - start)
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            metrics.requestFinished(
                method: request.method.rawValue, route: context.endpointPath ?? "unmatched", status: status, duration: ContinuousClock.now - start)
            throw error
        }
    }
}
