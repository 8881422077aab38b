import ArgumentParser
import ARMSProtocol
import Foundation
import MockRS
import MockService

/// `warplink-mock push OP --sa DISTID [arguments] [--wait S] [--json]`.
struct PushCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push",
        abstract: "Send a push operation to a push-ready SA and print its result.",
        discussion: """
            OP is one of: configure, reboot, pull-config, md-command, dump-debug, read-status, \
            clear-status, read-storage, read-module-list, ping, traceroute, check-transaction.
            Arguments: configure --module N --config FILE (repeat both for several modules; \
            --module defaults to 0); md-command --command TEXT [--module N]; read-status / \
            clear-status [--module N ...] [--parameter TEXT]; read-storage [--storage \
            running|candidate|backup]; ping --address A [--count N] [--size N]; traceroute \
            --address A [--count N] [--max-hop N]; pull-config [--pull-type RS|LS].
            Waits up to --wait seconds for the result. Exit status 0 only when the operation \
            succeeded; 1 when it failed, timed out or the SA is not push-ready.
            """)

    @OptionGroup var server: ControlOptions

    @Argument(help: "The operation.")
    var operation: String

    @Option(name: .long, help: ArgumentHelp("The SA.", valueName: "distribution-id"))
    var sa: String

    @Option(name: .long, help: ArgumentHelp("Module id (repeat for configure and read-status/clear-status).", valueName: "n"))
    var module: [UInt32] = []

    @Option(name: .long, help: ArgumentHelp("configure: a config file, one per --module.", valueName: "file"))
    var config: [String] = []

    @Option(name: .long, help: ArgumentHelp("md-command: the command text.", valueName: "text"))
    var command: String?

    @Option(name: .long, help: ArgumentHelp("read-status/clear-status: the parameter.", valueName: "text"))
    var parameter: String?

    @Option(name: .long, help: ArgumentHelp("read-storage: running, candidate or backup.", valueName: "name"))
    var storage: String?

    @Option(name: .long, help: ArgumentHelp("ping/traceroute: the destination.", valueName: "address"))
    var address: String?

    @Option(name: .long, help: ArgumentHelp("ping/traceroute: count.", valueName: "n"))
    var count: Int?

    @Option(name: .long, help: ArgumentHelp("ping: packet size.", valueName: "n"))
    var size: Int?

    @Option(name: .long, help: ArgumentHelp("traceroute: max hops.", valueName: "n"))
    var maxHop: Int?

    @Option(name: .long, help: ArgumentHelp("pull-config: RS or LS.", valueName: "type"))
    var pullType: String?

    @Option(name: .long, help: ArgumentHelp("Seconds to wait for the operation to finish.", valueName: "seconds"))
    var wait: Double = 60

    @Flag(name: .long, help: "Print the result as JSON.")
    var json = false

    func validate() throws {
        guard PushOperationRequest.operations.contains(operation) else {
            throw ValidationError("unknown operation \"\(operation)\"; expected one of \(PushOperationRequest.operations.joined(separator: ", "))")
        }
        guard DistributionID(sa) != nil else { throw ValidationError("--sa: \"\(sa)\" is not a distribution id") }
        guard wait > 0, wait <= ControlAPI.maxWait else { throw ValidationError("--wait must be between 0 and \(Int(ControlAPI.maxWait)) seconds") }
        if operation == "configure" {
            guard !config.isEmpty else { throw ValidationError("configure needs --config FILE") }
            guard module.count <= config.count else { throw ValidationError("configure: more --module than --config") }
        }
    }

    func request() throws -> PushOperationRequest {
        var r = PushOperationRequest(operation: operation, command: command, parameter: parameter, storage: storage,
                                     address: address, count: count, size: size, maxHop: maxHop, pullType: pullType)
        switch operation {
        case "configure":
            r.configs = try config.enumerated().map { i, path in
                let text: String
                do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
                    throw ValidationError("--config \(path): \(error.localizedDescription)")
                }
                return PushConfigArgument(module: i < module.count ? module[i] : (module.last ?? 0), text: text)
            }
        case "read-status", "clear-status":
            if !module.isEmpty { r.modules = module }
        default:
            r.module = module.first
        }
        return r
    }

    func run() async throws {
        let id = DistributionID(sa)!
        let request = try request()
        try await CLI.run {
            let client = try server.client()
            let result: PushOperationResult
            do {
                result = try await client.push(request, to: id, timeout: wait)
            } catch let error as ControlClientError {
                if case .server(let status, let message) = error, status == 409 || status == 404 {
                    throw ControlClientError.badAnswer(message)
                }
                throw error
            }
            if json {
                CLI.out(try CLI.json(result))
            } else {
                CLI.out(Self.text(result))
            }
            switch result.state {
            case .succeeded: return
            case .failed:
                CLI.printError("\(result.operation) failed: \(result.error ?? "result \(result.resultCode.map(String.init) ?? "?")")")
            case .timedOut, .queued, .sent, .started:
                CLI.printError("\(result.operation) did not finish within \(wait) s (state \(result.state.rawValue))")
            }
            throw ExitCode.failure
        }
    }

    static func text(_ r: PushOperationResult) -> String {
        var lines = ["operation \(r.id) \(r.operation) on \(r.sa): \(r.state.rawValue)"]
        if let c = r.resultCode { lines.append("result-code: \(c) \(ResultCode(c).text)") }
        if let t = r.transactionID { lines.append("transaction-id: \(t)") }
        if let t = r.transactionResult { lines.append("transaction-result: \(t) \(ResultCode(t).text)") }
        for o in r.output {
            lines.append("module \(o.module)" + (o.result.map { " (result \($0))" } ?? "") + ":")
            lines.append(o.text)
        }
        for m in r.modules ?? [] { lines.append("module \(m.id) version \(m.version ?? "-") \(m.info)") }
        if let ids = r.transactionIDs { lines.append("transactions: " + ids.map(String.init).joined(separator: " ")) }
        if let s = r.pingSuccess { lines.append("ping: success \(s), failure \(r.pingFailure ?? 0)") }
        for h in r.hops ?? [] { lines.append("hop \(h.hop): \(h.address)") }
        if let e = r.error { lines.append("error: \(e)") }
        return lines.joined(separator: "\n")
    }
}
