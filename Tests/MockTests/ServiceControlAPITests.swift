import ARMSProtocol
import Foundation
import MockCore
import MockService
import NIOCore
import Testing

private let second = DistributionID(version: 1, vendorCode: 0, saType: 0, saCode: 2)

/// A running control API over a store holding the demo SA and a journal with `entries` entries.
func withControlAPI(entries: Int = 0, maxBodySize: Int = ControlAPI.defaultMaxBodySize,
                    _ body: (ControlAPI, ControlClient) async throws -> Void) async throws {
    let store = FleetStore([.demo])
    let journal = Journal()
    for k in 0..<entries {
        journal.append(JournalEntry(time: 1_700_000_000 + Double(k), role: k % 2 == 0 ? .ls : .rs,
                                    sa: k % 3 == 0 ? second.description : SAProfile.demo.distributionID.description,
                                    messageType: k % 2 == 0 ? "rs-solicitation" : "config-solicitation",
                                    resultCode: 100, httpStatus: 200, bytesIn: 10, bytesOut: 20, outcome: "ok",
                                    peer: "127.0.0.1:\(40000 + k)"))
    }
    let api = ControlAPI(store: store, journal: journal, port: 0, maxBodySize: maxBodySize) {
        ServiceStatus(endpoints: [.init(role: .ls, address: "https://127.0.0.1:8443/arms.cgi")], counts: ["tunnels": 0])
    }
    let port = try await api.start()
    #expect(port > 0)
    let client = try ControlClient(url: "http://127.0.0.1:\(port)", timeout: .seconds(30))
    do {
        try await body(api, client)
    } catch {
        await api.stop()
        throw error
    }
    await api.stop()
}

@Suite struct ServiceControlAPITests {
    @Test func statusListAndGet() async throws {
        try await withControlAPI(entries: 3) { api, client in
            #expect(await api.url == "http://127.0.0.1:\(client.port)")
            let status = try await client.status()
            #expect(status.version == MockService.version)
            #expect(status.pid == getpid())
            #expect(status.endpoints == [.init(role: .ls, address: "https://127.0.0.1:8443/arms.cgi")])
            #expect(status.counts == ["sas": 1, "journalEntries": 3, "journalDropped": 0, "tunnels": 0])

            #expect(try await client.listSAs() == [.demo])
            #expect(try await client.sa(SAProfile.demo.distributionID) == .demo)
            #expect(try await client.sa(second) == nil)

            // Lower-case ids are accepted; a bad one is a 400 with a reason.
            let lower = try await client.send("GET", "/api/v1/sas/0001-0000-0000-0000-0000-0000-0000-000a", expecting: [404])
            #expect(String(decoding: lower.body, as: UTF8.self).contains("no SA 0001-0000-0000-0000-0000-0000-0000-000A"))
            await expectError(400, "\"nope\" is not a distribution id") { try await client.send("GET", "/api/v1/sas/nope") }

            // The raw JSON uses camelCase names.
            let raw = try await client.send("GET", "/api/v1/sas")
            let text = String(decoding: raw.body, as: UTF8.self)
            #expect(text.hasPrefix("{\"sas\":[{\"distributionID\":\"0001-0000-0000-0000-0000-0000-0000-0001\","
                                  + "\"heartbeat\":{\"interval\":60,\"passphrase\":\"demo-hb-passphrase\"},\"label\":\"demo SA\",\"lsKey\":\"demo-ls-key\""))
        }
    }

    @Test func putAndDeleteOverHTTP() async throws {
        try await withControlAPI { api, client in
            let profile = SAProfile(distributionID: second, lsKey: "k1", rsKey: "k2", label: "added",
                                    modules: [ModuleProfile(id: 3, version: "2.0", info: "x", config: "a=b\n")])
            #expect(try await client.putSA(profile) == true)
            #expect(api.store[second] == profile)
            var changed = profile
            changed.rsKey = "k3"
            #expect(try await client.putSA(changed) == false)
            #expect(api.store[second]?.rsKey == "k3")

            // Optional fields may be left out.
            let minimal = #"{"distributionID":"0001-0000-0000-0000-0000-0000-0000-0004","lsKey":"a","rsKey":"b","modules":[{"id":1}]}"#
            let r = try await client.send("PUT", "/api/v1/sas/0001-0000-0000-0000-0000-0000-0000-0004", body: Array(minimal.utf8), expecting: [201])
            #expect(r.status == 201)
            #expect(api.store[DistributionID("0001-0000-0000-0000-0000-0000-0000-0004")!]?.modules == [ModuleProfile(id: 1)])

            #expect(try await client.removeSA(second) == changed)
            #expect(api.store[second] == nil)
            #expect(try await client.removeSA(second) == nil)
            #expect(api.store.count == 2)
        }
    }

    @Test(arguments: [
        ("{not json", "invalid SA profile: body is not JSON"),
        ("[1]", "invalid SA profile: body must be a JSON object"),
        (#"{"distributionID":"0001-0000-0000-0000-0000-0000-0000-0002","lsKey":"a"}"#, "invalid SA profile: rsKey: missing (required)"),
        (#"{"distributionID":"0001-0000-0000-0000-0000-0000-0000-0002","lsKey":"a","rsKey":"b","colour":1}"#, "invalid SA profile: colour: unknown field"),
        (#"{"distributionID":"0001-0000-0000-0000-0000-0000-0000-0002","lsKey":"","rsKey":"b"}"#, "invalid SA profile: lsKey: must not be empty"),
        (#"{"distributionID":"0001-0000-0000-0000-0000-0000-0000-0002","lsKey":"a","rsKey":"b","modules":[{"id":-1}]}"#, "invalid SA profile: modules[0].id: expected a number from 0 to 4294967295"),
        (#"{"distributionID":"0001-0000-0000-0000-0000-0000-0000-0002","lsKey":"a","rsKey":"b","modules":[{"id":4294967296}]}"#, "invalid SA profile: modules[0].id: expected a number"),
        (#"{"distributionID":"0001-0000-0000-0000-0000-0000-0000-0002","lsKey":"a","rsKey":"b","modules":[{"id":true}]}"#, "invalid SA profile: modules[0].id: expected a number"),
        (#"{"distributionID":"0001-0000-0000-0000-0000-0000-0000-0002","lsKey":"a","rsKey":"b","modules":[{"id":1},{"id":1}]}"#, "invalid SA profile: modules[1].id: module 1 is listed twice"),
        (#"{"distributionID":"0001-0000-0000-0000-0000-0000-0000-0002","lsKey":"a","rsKey":"b","modules":[{"id":1,"colour":2}]}"#, "invalid SA profile: modules[0].colour: unknown field"),
        (#"{"distributionID":"0001-0000-0000-0000-0000-0000-0000-0002","lsKey":"a","rsKey":"b","modules":[{"id":1,"config":"caf\u00e9"}]}"#, "invalid SA profile: modules[0].config: contains byte 0xC3"),
        (#"{"distributionID":"0001-0000-0000-0000-0000-0000-0000-0002","lsKey":"a","rsKey":"b","modules":[{"id":1,"base64":"yes"}]}"#, "invalid SA profile: modules[0].base64: expected true or false"),
        (#"{"distributionID":"0001-0000","lsKey":"a","rsKey":"b"}"#, "invalid SA profile: distributionID: distribution id must be 39 characters"),
        (#"{"distributionID":"0001-0000-0000-0000-0000-0000-0000-0003","lsKey":"a","rsKey":"b"}"#, "distributionID 0001-0000-0000-0000-0000-0000-0000-0003 in the body does not match 0001-0000-0000-0000-0000-0000-0000-0002 in the path"),
    ])
    func badBodiesAre400(body: String, message: String) async throws {
        try await withControlAPI { api, client in
            await expectError(400, message) {
                try await client.send("PUT", "/api/v1/sas/0001-0000-0000-0000-0000-0000-0000-0002", body: Array(body.utf8))
            }
            #expect(api.store.count == 1)
        }
    }

    @Test func oversizedBodyIs413() async throws {
        try await withControlAPI(maxBodySize: 2048) { api, client in
            let profile = SAProfile(distributionID: second, lsKey: "a", rsKey: "b",
                                    modules: [ModuleProfile(id: 1, config: String(repeating: "x", count: 4000))])
            await expectError(413, "request body larger than 2048 bytes") { try await client.putSA(profile) }
            #expect(api.store[second] == nil)
            // The server still answers afterwards.
            let after = try await client.listSAs()
            #expect(after.count == 1)
        }
    }

    @Test func journalPaging() async throws {
        try await withControlAPI(entries: 5) { _, client in
            var page = try await client.journal(after: 0, limit: 2)
            #expect(page.entries.map(\.sequence) == [1, 2])
            #expect(page.more && page.next == 2 && page.dropped == 0)
            page = try await client.journal(after: page.next, limit: 2)
            #expect(page.entries.map(\.sequence) == [3, 4])
            page = try await client.journal(after: page.next, limit: 2)
            #expect(page.entries.map(\.sequence) == [5])
            #expect(!page.more && page.next == 5)
            page = try await client.journal(after: page.next)
            #expect(page.entries.isEmpty && page.next == 5)

            #expect(try await client.journal(role: .rs).entries.map(\.sequence) == [2, 4])
            #expect(try await client.journal(sa: second).entries.map(\.sequence) == [1, 4])
            let filtered = try await client.journal(sa: second, role: .ls)
            #expect(filtered.entries.map(\.sequence) == [1])
            // A filtered page still moves the cursor past everything it looked at.
            #expect(filtered.next == 5)
            let first = try #require(try await client.journal(limit: 1).entries.first)
            #expect(first.peer == "127.0.0.1:40000" && first.messageType == "rs-solicitation" && first.role == .ls)

            let rs = try await client.send("GET", "/api/v1/journal?role=rs&after=1")
            #expect(String(decoding: rs.body, as: UTF8.self).contains("\"sequence\":2"))

            await expectError(400, "role: \"xx\" is not one of LS, RS, tunnel, simple, heartbeat, control") {
                try await client.send("GET", "/api/v1/journal?role=xx")
            }
            await expectError(400, "limit: \"0\" is not a number from 1 to 1000") { try await client.send("GET", "/api/v1/journal?limit=0") }
            await expectError(400, "after: \"-1\"") { try await client.send("GET", "/api/v1/journal?after=-1") }
            await expectError(400, "sa: \"zz\"") { try await client.send("GET", "/api/v1/journal?sa=zz") }
            await expectError(400, "unknown query parameter \"foo\"") { try await client.send("GET", "/api/v1/journal?foo=1") }
        }
    }

    @Test func unknownRoutesAndMethods() async throws {
        try await withControlAPI { _, client in
            await expectError(404, "no such route: GET /api/v2/sas") { try await client.send("GET", "/api/v2/sas") }
            await expectError(405, "POST is not allowed on /api/v1/sas (allowed: GET)") { try await client.send("POST", "/api/v1/sas", body: []) }
            await expectError(405, "allowed: GET, PUT, DELETE") { try await client.send("POST", "/api/v1/sas/x", body: []) }
        }
    }

    @Test func stopsAndRefusesConnections() async throws {
        let api = ControlAPI(store: FleetStore(), journal: Journal())
        // Concurrent starts share one server.
        async let a = api.start()
        async let b = api.start()
        let (pa, pb) = try await (a, b)
        #expect(pa == pb)
        let port = try await api.start()
        #expect(port == pa)
        await api.stop()
        #expect(await api.port == nil)
        let client = try ControlClient(url: "http://127.0.0.1:\(port)/", timeout: .seconds(5))
        do {
            _ = try await client.status()
            Issue.record("a stopped API answered")
        } catch {
            #expect(error.description.hasPrefix("nothing is listening on http://127.0.0.1:\(port)"))
        }
        // A port in use cannot be taken twice.
        let first = ControlAPI(store: FleetStore(), journal: Journal())
        let taken = try await first.start()
        let second = ControlAPI(store: FleetStore(), journal: Journal(), port: taken)
        await #expect(throws: ControlAPI.StartError.self) { try await second.start() }
        await first.stop()
    }

    @Test func clientParsesURLs() throws {
        #expect(try ControlClient(url: "http://127.0.0.1:8080").port == 8080)
        #expect(try ControlClient(url: "http://[::1]:9/").host == "::1")
        #expect(throws: ControlClientError.self) { try ControlClient(url: "https://127.0.0.1:1") }
        #expect(throws: ControlClientError.self) { try ControlClient(url: "http://127.0.0.1") }
        #expect(throws: ControlClientError.self) { try ControlClient(url: "http://127.0.0.1:70000") }
    }

    @Test func requestsTimeOut() async throws {
        // A listener that never answers: the client gives up after its timeout.
        let silent = try await SilentListener.start()
        defer { silent.stop() }
        let client = try ControlClient(url: "http://127.0.0.1:\(silent.port)", timeout: .milliseconds(300))
        let started = ContinuousClock.now
        do {
            _ = try await client.status()
            Issue.record("answered")
        } catch {
            #expect(error.description == "no answer from http://127.0.0.1:\(silent.port) within 0.3 s")
        }
        // Generous: with 2 cores and the whole suite running, resuming the test itself can lag.
        #expect(ContinuousClock.now - started < .seconds(60))
    }
}

/// Expects `body` to fail with the server answering `status` and a message containing `text`.
func expectError(_ status: Int, _ text: String, sourceLocation: SourceLocation = #_sourceLocation,
                 _ body: () async throws -> some Any) async {
    do {
        _ = try await body()
        Issue.record("expected \(status), got success", sourceLocation: sourceLocation)
    } catch let ControlClientError.server(got, message) {
        #expect(got == status, sourceLocation: sourceLocation)
        #expect(message.contains(text), "message: \(message)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected \(status), got \(error)", sourceLocation: sourceLocation)
    }
}

/// A loopback TCP listener that accepts connections (in the kernel backlog) and never answers.
struct SilentListener {
    let fd: Int32
    let port: Int

    static func start() async throws -> SilentListener {
        #if os(Linux)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw POSIXError(.EMFILE) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 16) == 0 else {
            close(fd)
            throw POSIXError(.EADDRINUSE)
        }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        return SilentListener(fd: fd, port: Int(UInt16(bigEndian: addr.sin_port)))
    }

    func stop() { close(fd) }
}
