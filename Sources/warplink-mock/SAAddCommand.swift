import ArgumentParser
import ARMSProtocol
import Foundation
import MockCore
import MockService

/// `warplink-mock sa add --distribution-id ID --ls-key K --rs-key K [--module …]…` or
/// `warplink-mock sa add --fleet FILE`.
struct SAAddCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Add or replace SAs on a running server.",
        discussion: """
            Either describe one SA with --distribution-id, --ls-key, --rs-key and any number of \
            --module, or give a fleet file (docs/fleet-file.md) with --fleet: every SA in it is \
            added, replacing one with the same distribution id.

            --module id[:version[:config-file]] adds a module: a decimal id, an optional version \
            and an optional file whose content is the module's config (read as UTF-8 text; sent \
            base64-encoded when it is not plain ASCII). Example: --module 1:1.0:router.conf
            """
    )

    @OptionGroup var server: ControlOptions

    @Option(name: .customLong("distribution-id"), help: ArgumentHelp("Distribution id, e.g. 0001-0000-0000-0000-0000-0000-0000-0002.", valueName: "id"))
    var distributionID: String?

    @Option(name: .customLong("ls-key"), help: ArgumentHelp("LS-SA key (armsd's ls-sa-key).", valueName: "key"))
    var lsKey: String?

    @Option(name: .customLong("rs-key"), help: ArgumentHelp("RS pre-shared key the LS hands out.", valueName: "key"))
    var rsKey: String?

    @Option(name: .long, help: ArgumentHelp("Free text for operators.", valueName: "text"))
    var label: String?

    @Option(name: .customLong("module"), help: ArgumentHelp("A module: id[:version[:config-file]] (repeatable).", valueName: "spec"))
    var modules: [String] = []

    @Option(name: .long, help: ArgumentHelp("Add every SA of this fleet file instead.", valueName: "file"))
    var fleet: String?

    func validate() throws {
        if fleet != nil {
            guard distributionID == nil, lsKey == nil, rsKey == nil, label == nil, modules.isEmpty else {
                throw ValidationError("--fleet cannot be combined with --distribution-id, --ls-key, --rs-key, --label or --module")
            }
        } else {
            guard distributionID != nil, lsKey != nil, rsKey != nil else {
                throw ValidationError("give --distribution-id, --ls-key and --rs-key (or --fleet FILE)")
            }
        }
    }

    func run() async throws {
        try await CLI.run {
            let profiles = try fleet.map { path throws in try FleetFile.load(contentsOf: path) } ?? [try profileFromOptions()]
            let client = try server.client()
            for p in profiles {
                let created = try await client.putSA(p)
                CLI.out("\(created ? "added" : "replaced") \(p.distributionID)\(p.label.map { " (\($0))" } ?? "")")
            }
            if profiles.isEmpty { CLI.out("the fleet file lists no SAs") }
        }
    }

    /// The SA the options describe, checked with the same rules as the server's.
    private func profileFromOptions() throws -> SAProfile {
        guard let distributionID, let lsKey, let rsKey else { throw ValidationError("missing --distribution-id, --ls-key or --rs-key") }
        let id: DistributionID
        do { id = try DistributionID(parsing: distributionID) } catch {
            throw ValidationError("--distribution-id: \"\(distributionID)\": \(error)")
        }
        let profile = SAProfile(distributionID: id, lsKey: lsKey, rsKey: rsKey, label: label,
                                modules: try modules.map(Self.module))
        do { try profile.validate() } catch {
            throw ValidationError(Self.optionName(error))
        }
        return profile
    }

    /// Names the option behind a profile issue (`lsKey` → `--ls-key`).
    private static func optionName(_ issue: ProfileIssue) -> String {
        let names = ["lsKey": "--ls-key", "rsKey": "--rs-key", "label": "--label"]
        if let name = names[issue.path] { return "\(name): \(issue.message)" }
        if issue.path.hasPrefix("modules[") { return "--module \(issue.path.dropFirst(7)): \(issue.message)" }
        return issue.description
    }

    /// Parses `id[:version[:config-file]]`.
    static func module(_ spec: String) throws -> ModuleProfile {
        let parts = spec.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
        guard let id = ProfileRules.moduleID(parts[0]) else {
            throw ValidationError("--module \(spec): \"\(parts[0])\" is not a module id (decimal, 0 to 4294967295)")
        }
        var m = ModuleProfile(id: id)
        if parts.count > 1, !parts[1].isEmpty { m.version = parts[1] }
        if parts.count > 2, !parts[2].isEmpty {
            let path = parts[2]
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
                  let data = FileManager.default.contents(atPath: path) else {
                throw ValidationError("--module \(spec): cannot read \(path)")
            }
            let size = (attributes[.size] as? NSNumber)?.intValue ?? data.count
            guard size <= ProfileRules.maxConfigSize else {
                throw ValidationError("--module \(spec): \(path) is \(size) bytes, at most \(ProfileRules.maxConfigSize) allowed")
            }
            guard let text = String(data: data, encoding: .utf8) else {
                throw ValidationError("--module \(spec): \(path) is not UTF-8 text")
            }
            m.config = text
            m.base64 = ProfileRules.configProblem(text, base64: false) != nil
        }
        return m
    }
}
