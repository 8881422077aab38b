import Testing
@testable import ARMSProtocol

/// Every request and response of every method survives encode → decode, in both text styles.
@Suite struct MessageRoundTripTests {
    static let id = "0001-0000-1234-0056-0000-0000-0000-0001"

    static let requests: [ARMSRequest] = [
        ARMSRequest(type: .rsSolicitation, distributionID: id, description: "armsd", body: .rsSolicitation(trigger: "power on boot")),
        ARMSRequest(type: .configSolicitation, distributionID: id, description: "armsd",
                    body: .configSolicitation(ConfigSolicitationRequest(trigger: "retry is over"))),
        ARMSRequest(type: .pushMethodQuery, distributionID: id, description: "", body: .pushMethodQuery(methods: ["https-tunnel"])),
        ARMSRequest(type: .pushConfirmationStart, distributionID: id, description: "armsd",
                    body: .pushConfirmationStart(method: "https-simple", endpoint: "https://[2001:db8::5]:10443/")),
        ARMSRequest(type: .pushConfirmationDone, distributionID: id, transactionID: 70418033),
        ARMSRequest(type: MessageType(.pushReady), distributionID: id, description: "armsd", body: .pushReady(endpoint: "https://192.0.2.5:10443/")),
        ARMSRequest(type: MessageType(.configure, .start), distributionID: id, resultURL: "https://192.0.2.10/arms/result",
                    body: .configure(ConfigureRequest(
                        modules: [ModuleInfo(id: 0, version: "1.0", info: "router-main"), ModuleInfo(id: 7, installOrder: "2")],
                        configs: [ModuleConfig(id: 0, content: "hostname <r&d> \"x\" 'y'\n"),
                                  ModuleConfig(id: 7, content: Payload(bytes: [0, 1, 2, 255], encoding: .base64), commitOrder: "1")]))),
        ARMSRequest(type: MessageType(.configure, .done), transactionResult: .rollbacked, distributionID: id, transactionID: 766980607, description: "armsd"),
        ARMSRequest(type: MessageType(.reboot), distributionID: id),
        ARMSRequest(type: MessageType(.pullConfig), distributionID: id, body: .pullConfig(type: "LS")),
        ARMSRequest(type: MessageType(.mdCommand), distributionID: id, body: .mdCommand([ModuleCommand(moduleID: 3, command: "show ip route")])),
        ARMSRequest(type: MessageType(.mdCommand), distributionID: id,
                    body: .mdCommand([ModuleCommand(moduleID: 3, command: Payload(bytes: Array("bin\u{0}".utf8), encoding: .base64))])),
        ARMSRequest(type: MessageType(.dumpDebug), distributionID: id),
        ARMSRequest(type: MessageType(.readStatus, .start), distributionID: id,
                    body: .statusRequests([StatusRequest(moduleID: 0), StatusRequest(moduleID: 1, parameter: Payload(bytes: Array("param".utf8), encoding: .base64))])),
        ARMSRequest(type: MessageType(.readStatus, .done), transactionResult: .success, distributionID: id, transactionID: 5, description: "armsd",
                    body: .statusReports([StatusReport(moduleID: 0, report: "cpu 3%"), StatusReport(moduleID: 1, result: .saFailure, report: "")])),
        ARMSRequest(type: MessageType(.clearStatus, .start), distributionID: id, body: .statusRequests([StatusRequest(moduleID: 3, parameter: "all")])),
        ARMSRequest(type: MessageType(.clearStatus, .done), transactionResult: .success, distributionID: id, transactionID: 6, description: "armsd",
                    body: .statusReports([StatusReport(moduleID: 3, report: Payload(bytes: [9, 9], encoding: .base64))])),
        ARMSRequest(type: MessageType(.readStorage, .start), distributionID: id, body: .readStorage(storage: "running")),
        ARMSRequest(type: MessageType(.readStorage, .done), transactionResult: .success, distributionID: id, transactionID: 7, description: "armsd",
                    body: .storedConfigs([ModuleConfig(id: 0, content: "hostname router1\n"), ModuleConfig(id: 1, content: "")])),
        ARMSRequest(type: MessageType(.ping, .start), distributionID: id, body: .ping(PingRequest(address: "192.0.2.1", count: 3, size: 56))),
        ARMSRequest(type: MessageType(.ping, .done), transactionResult: .success, distributionID: id, transactionID: 8, description: "armsd",
                    body: .pingResult(success: 3, failure: 0)),
        ARMSRequest(type: MessageType(.ping, .done), transactionResult: .pushFailed, distributionID: id, transactionID: 8, description: "armsd"),
        ARMSRequest(type: MessageType(.traceroute, .start), distributionID: id, body: .traceroute(TracerouteRequest(address: "2001:db8::1", count: 3, maxHop: 30))),
        ARMSRequest(type: MessageType(.traceroute, .done), transactionResult: .success, distributionID: id, transactionID: 9, description: "armsd",
                    body: .tracerouteResult([TracerouteHop(hop: 1, address: "192.0.2.254"), TracerouteHop(hop: 2, address: "192.0.2.1")])),
        ARMSRequest(type: MessageType(.checkTransaction), distributionID: id),
        ARMSRequest(type: MessageType(.readModuleList), distributionID: id),
    ]

    static let responses: [ARMSResponse] = [
        .standard(.rsSolicitation, body: .rsSolicitation(RSSolicitationResult(
            rsPresharedKey: "k", llTimeout: 30, rsRetryMax: 3, rsRetryInterval: 10, lifetime: 86400,
            urls: ["https://192.0.2.21/rs.cgi", "https://[2001:db8::21]:8443/rs.cgi"],
            locationConfigs: ["line-dhcp {\n ifindex 0;\n};\n", "x"]))),
        ARMSResponse(type: .rsSolicitation, resultCode: .authenticationFailure, description: "Authentication Falure", errorReason: "bad key", body: nil),
        .standard(.configSolicitation, body: .configSolicitation(ConfigSolicitationResult(
            saCertificate: "-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n", saPrivateKey: "k",
            proposedPushPort: 10443, proposedPushTimeout: 60,
            heartbeatServers: [HeartbeatServerInfo(host: "127.0.0.1", port: 10010, passphrase: "p<&>", interval: 300, algorithms: ["hmac-sha1"])],
            healthURL: "h", healthInterval: "1", pollURL: "p", pollInterval: "2",
            rsPushServerAddresses: ["192.0.2.21"], rsPullServerURLs: ["https://192.0.2.21/rs.cgi"],
            modules: [ModuleInfo(id: 1, version: "1.0.0", info: "router-main"), ModuleInfo(id: 2)],
            configs: [ModuleConfig(id: 1, content: "a\nb\n", contentType: "text/plain"),
                      ModuleConfig(id: 2, content: Payload(bytes: Array(0...255), encoding: .base64))]))),
        .standard(.pushMethodQuery, body: .pushMethodQuery(PushMethodQueryResult(
            methods: ["https-tunnel", "https-simple"], tunnelURLs: ["https://127.0.0.1:18445/tunnel"], echoInterval: 60))),
        .standard(.pushConfirmationStart, transactionID: 70418033),
        .standard(.pushConfirmationDone, transactionID: 70418033),
        .standard(MessageType(.configure, .start), transactionID: 846930886),
        .standard(MessageType(.configure, .done), transactionID: 846930886, body: nil),
        .standard(MessageType(.reboot)),
        .standard(MessageType(.pullConfig)),
        .standard(MessageType(.mdCommand), body: .moduleResult(ModuleResult(moduleID: 0, output: "MA-E350 firmware 1.0\n"))),
        .standard(MessageType(.mdCommand), .commandExecuteError, body: .moduleResult(ModuleResult(moduleID: 0, output: Payload(bytes: [1, 2, 3], encoding: .base64)))),
        .standard(MessageType(.dumpDebug), .notSupported, body: .moduleResult(nil)),
        .standard(MessageType(.readStatus, .start), transactionID: 1),
        .standard(MessageType(.readStatus, .done), transactionID: 1, body: nil),
        .standard(MessageType(.clearStatus, .start), .invalidParameter, transactionID: 2),
        .standard(MessageType(.readStorage, .start), transactionID: 3),
        .standard(MessageType(.ping, .start), transactionID: 1804289383),
        .standard(MessageType(.ping, .done), transactionID: 1804289383, body: nil),
        .standard(MessageType(.traceroute, .start), transactionID: 4),
        .standard(MessageType(.checkTransaction), body: .transactionIDs([0, 846930886])),
        .standard(MessageType(.readModuleList), body: .moduleList([ModuleInfo(id: 0, version: "1.0", info: "ma-e3xx-config")])),
        .standard(MessageType(.readModuleList), body: .moduleList([])),
        .standard(.genericError, .invalidMessageType),
    ]

    @Test(arguments: requests)
    func requestRoundTrips(_ request: ARMSRequest) throws {
        for style in [XMLTextStyle.libarms, .asciiSafe] {
            let encoded = request.encode(style: style)
            #expect(encoded.bytes.allSatisfy { $0 < 0x80 })
            #expect(try ARMSRequest.decode(encoded.bytes) == request)
        }
    }

    @Test(arguments: responses)
    func responseRoundTrips(_ response: ARMSResponse) throws {
        for style in [XMLTextStyle.libarms, .asciiSafe] {
            let encoded = response.encode(style: style)
            #expect(try ARMSResponse.decode(encoded.bytes, expecting: response.type) == response)
        }
    }

    @Test func coversEveryPushOperationBothWays() {
        let requested = Set(Self.requests.map(\.type.name))
        let answered = Set(Self.responses.map(\.type.name))
        for op in MessageName.pushOperations {
            #expect(requested.contains(op), "\(op) request")
            #expect(answered.contains(op), "\(op) response")
        }
        for op in MessageName.pushOperations where op.isAsync {
            #expect(Self.requests.contains { $0.type == MessageType(op, .done) }, "\(op)-done request")
            #expect(Self.responses.contains { $0.type == MessageType(op, .start) }, "\(op)-start response")
        }
    }

    @Test func libarmsStyleReplacesNonASCIIAndServerStyleUsesCharacterReferences() throws {
        let r = ARMSRequest(type: .rsSolicitation, distributionID: Self.id, description: "ルータ", body: .rsSolicitation(trigger: "x"))
        let libarms = r.encode(style: .libarms).bytes.string
        #expect(libarms.contains("<description>?????????</description>"))
        let safe = r.encode(style: .asciiSafe).bytes
        #expect(safe.string.contains("<description>&#12523;&#12540;&#12479;</description>"))
        #expect(try ARMSRequest.decode(safe).description == "ルータ")
    }

    @Test func typeAttributeParsing() {
        #expect(MessageType(attribute: "ping-start") == MessageType(.ping, .start))
        #expect(MessageType(attribute: "push-confirmation-done") == .pushConfirmationDone)
        #expect(MessageType(attribute: "md-command") == MessageType(.mdCommand))
        #expect(MessageType(attribute: "md-command-start") == MessageType(.mdCommand, .start))
        #expect(MessageType(attribute: "ping-stop") == nil)
        #expect(MessageType(attribute: "") == nil)
        #expect(MessageName.pushOperations.count == 12)
    }
}

extension ARMSRequest: CustomTestStringConvertible {
    public var testDescription: String { type.attribute }
}

extension ARMSResponse: CustomTestStringConvertible {
    public var testDescription: String { "\(type.attribute) \(resultCode.rawValue)" }
}
