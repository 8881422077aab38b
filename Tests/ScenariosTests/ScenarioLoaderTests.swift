import MockCore
import MockService
import Scenarios
import Testing

@Suite("Scenario files")
struct ScenarioLoaderTests {
    static let minimal = """
        version: 1
        id: ARMS-PULL-900
        title: t
        rule: r
        expect:
          final-state: PUSH_WAIT

        """

    @Test("a minimal scenario loads with the defaults")
    func minimal() throws {
        let s = try ScenarioLoader.parse(Self.minimal)
        #expect(s.id == "ARMS-PULL-900")
        #expect(s.area == "PULL")
        #expect(s.sas.count == 1)
        #expect(s.topology.pushMethods == ["https-tunnel"])
        #expect(s.expect.finalState == "PUSH_WAIT")
        #expect(s.timeout == 20)
    }

    func error(_ text: String) -> String {
        do {
            _ = try ScenarioLoader.parse(text, fileName: "x.yaml")
            return "no error"
        } catch {
            return error.description
        }
    }

    @Test("errors name file, line and key")
    func errors() {
        #expect(error(Self.minimal + "faults:\n  - {on: LS, do: result abc}\n")
            == "x.yaml:8: faults[0].do: \"abc\" is not a code from 100 to 999")
        #expect(error(Self.minimal + "faults:\n  - {on: heartbeat, do: http 503}\n")
            == "x.yaml:8: faults[0].do: http 503 cannot be injected on heartbeat")
        #expect(error(Self.minimal + "steps:\n  - when: {state: NOPE}\n    mark: true\n").hasPrefix("x.yaml:8: steps[0].when.state: \"NOPE\" is not one of"))
        #expect(error(Self.minimal + "time: {rs-retry-max: 99}\n") == "x.yaml:7: time.rs-retry-max: 99 is out of range 0…20")
        #expect(error(Self.minimal + "colour: blue\n").hasPrefix("x.yaml:7: colour: unknown key"))
        #expect(error(Self.minimal.replacingOccurrences(of: "ARMS-PULL-900", with: "PULL-1")).hasPrefix("x.yaml:2: id: \"PULL-1\" is not a check id"))
        #expect(error(Self.minimal + "steps:\n  - push: {operation: md-command}\n").contains("md-command needs a command"))
        #expect(error(Self.minimal + "faults:\n  - {on: LS, message: rs-solicitation, do: refuse}\n").contains("acts on connections"))
        #expect(error("version: 1\nid: ARMS-PULL-001\ntitle: t\nrule: r\n") == "x.yaml:1: expect: missing (required: what a conforming agent does)")
    }

    @Test("nesting and size are bounded")
    func bounds() {
        let deep = Self.minimal + "agent:\n  conf: " + String(repeating: "[", count: 40) + String(repeating: "]", count: 40) + "\n"
        #expect(error(deep).contains("nested deeper than"))
        let big = Self.minimal + "# " + String(repeating: "x", count: ScenarioLoader.maxSize) + "\n"
        #expect(error(big).contains("at most \(ScenarioLoader.maxSize) allowed"))
    }

    @Test("occurrence sets and probabilities are drawn from the seed, the same each time")
    func faultPlane() throws {
        let s = try ScenarioLoader.parse(Self.minimal + """
            faults:
              - {on: RS, message: config-solicitation, nth: [1, 3-4, 7-], do: http 503}
              - {on: LS, probability: 0.5, do: close}

            """)
        let plane = FaultPlane(rules: s.faults, seed: 42)
        let hits = (1...8).map { _ in
            plane.decide(role: .rs, messageType: "config-solicitation", listener: nil, sa: nil, connectionLevel: false, now: 0) != nil
        }
        #expect(hits == [true, false, true, true, false, false, true, true])
        #expect(plane.decide(role: .rs, messageType: "push-method-query", listener: nil, sa: nil, connectionLevel: false, now: 0) == nil)
        func draws(_ seed: UInt64) -> [Bool] {
            let p = FaultPlane(rules: s.faults, seed: seed)
            return (0..<32).map { _ in p.decide(role: .ls, messageType: nil, listener: nil, sa: nil, connectionLevel: false, now: 0) != nil }
        }
        #expect(draws(7) == draws(7))
        #expect(draws(7) != draws(8))
        #expect(draws(7).filter { $0 }.count > 4 && draws(7).filter { $0 }.count < 28)
        #expect(plane.applied.count == 5)
    }

    @Test("the repository's catalog loads")
    func catalogLoads() throws {
        let root = #filePath.split(separator: "/").dropLast(3).joined(separator: "/")
        let files = try ScenarioLoader.files(["/" + root + "/scenarios"])
        #expect(files.count >= 40)
        for f in files { _ = try ScenarioLoader.load(contentsOf: f) }
    }
}
