extension ARMSMessage {
    /// Decodes a whole document (an optional XML declaration, then `<arms-message>`).
    ///
    /// - Parameter expecting: the type the caller waits for. libarms does not check
    ///   the `type` attribute of pull, method-query and confirmation answers, so when
    ///   it is given the body is read as that type's body, and an unknown `type`
    ///   attribute is not an error.
    public static func decode(_ bytes: some Collection<UInt8>, expecting: MessageType? = nil,
                              options: ARMSDecodeOptions = .strict) throws(ARMSDecodeError) -> ARMSMessage {
        let root: XMLElement
        do { root = try XMLDocumentParser.parse(bytes, limits: options.limits) } catch { throw .xml(error) }
        guard root.name == "arms-message" else { throw .notARMSMessage(root: root.name) }
        let d = ElementReader(options: options)
        guard let envelope = root.children.first(where: { $0.name == "arms-request" || $0.name == "arms-response" }) else {
            throw .missingEnvelope
        }
        if envelope.name == "arms-request" {
            return .request(try d.request(envelope, expecting: expecting))
        }
        return .response(try d.response(envelope, expecting: expecting))
    }
}

extension ARMSRequest {
    /// Decodes a document that must hold an `<arms-request>`.
    public static func decode(_ bytes: some Collection<UInt8>, expecting: MessageType? = nil,
                              options: ARMSDecodeOptions = .strict) throws(ARMSDecodeError) -> ARMSRequest {
        switch try ARMSMessage.decode(bytes, expecting: expecting, options: options) {
        case .request(let r): return r
        case .response: throw .unexpectedKind(expected: "arms-request", found: "arms-response")
        }
    }
}

extension ARMSResponse {
    /// Decodes a document that must hold an `<arms-response>`.
    public static func decode(_ bytes: some Collection<UInt8>, expecting: MessageType? = nil,
                              options: ARMSDecodeOptions = .strict) throws(ARMSDecodeError) -> ARMSResponse {
        switch try ARMSMessage.decode(bytes, expecting: expecting, options: options) {
        case .response(let r): return r
        case .request: throw .unexpectedKind(expected: "arms-response", found: "arms-request")
        }
    }
}

/// Reads typed values out of the element tree with libarms' rules.
struct ElementReader {
    let options: ARMSDecodeOptions

    static let envelopeAttributes: Set<String> = ["type"]
    static let moduleAttributes: Set<String> = ["id", "version", "install-order"]
    static let pulledConfigAttributes: Set<String> = ["id", "content-type", "commit-order", "encoding"]
    static let pushedConfigAttributes: Set<String> = ["id", "commit-order", "encoding"]
    static let idEncodingAttributes: Set<String> = ["id", "encoding"]

    // MARK: envelopes

    func request(_ e: XMLElement, expecting: MessageType?) throws(ARMSDecodeError) -> ARMSRequest {
        let type = try messageType(e, expecting: expecting)
        var r = ARMSRequest(type: type)
        if let v = try int(e.child("transaction-result"), "transaction-result") { r.transactionResult = ResultCode(v) }
        r.distributionID = try text(e.child("distribution-id"))
        r.transactionID = try int(e.child("transaction-id"), "transaction-id")
        r.description = try text(e.child("description"))
        r.resultURL = try text(e.child("result-url"))
        r.body = try requestBody(type, e.child(type.requestElement))
        return r
    }

    func response(_ e: XMLElement, expecting: MessageType?) throws(ARMSDecodeError) -> ARMSResponse {
        let type = try messageType(e, expecting: expecting)
        guard let code = try int(e.child("result-code"), "result-code", required: true) else {
            throw .missingElement("result-code")
        }
        var r = ARMSResponse(type: type, resultCode: ResultCode(code), body: nil)
        r.transactionID = try int(e.child("transaction-id"), "transaction-id")
        r.description = try text(e.child("description"))
        r.errorReason = try text(e.child("error-reason"))
        let bodyType = expecting ?? type
        if let b = e.child(bodyType.responseElement) {
            r.body = try responseBody(bodyType, b)
        }
        return r
    }

    private func messageType(_ e: XMLElement, expecting: MessageType?) throws(ARMSDecodeError) -> MessageType {
        try checkAttributes(e, Self.envelopeAttributes)
        guard let attribute = e.attribute("type") else {
            if let expecting { return expecting }
            throw .missingType(element: e.name)
        }
        guard let type = MessageType(attribute: attribute) else {
            if let expecting { return expecting }
            throw .unknownType(attribute)
        }
        return type
    }

    // MARK: request bodies

    private func requestBody(_ type: MessageType, _ b: XMLElement?) throws(ARMSDecodeError) -> RequestBody {
        let b = b ?? XMLElement(name: type.requestElement)
        let isDone = type.phase == .done
        switch type.name {
        case .rsSolicitation:
            return .rsSolicitation(trigger: try text(b.child("trigger")) ?? "")
        case .configSolicitation:
            return .configSolicitation(ConfigSolicitationRequest(
                protocolVersion: try text(b.child("protocol-version")) ?? "",
                trigger: try text(b.child("trigger")) ?? "",
                firmwareInfo: try text(b.child("firmware-info"))))
        case .pushMethodQuery:
            return .pushMethodQuery(methods: try texts(b, "push-method", limit: 5))
        case .pushConfirmation:
            if isDone { return .empty }
            return .pushConfirmationStart(method: try text(b.child("push-method")) ?? "",
                                          endpoint: try text(b.child("push-endpoint")))
        case .pushReady:
            return .pushReady(endpoint: try text(b.child("push-endpoint")))
        case .configure:
            if isDone { return .empty }
            let (modules, configs) = try modulesAndConfigs(b, configAttributes: Self.pushedConfigAttributes)
            return .configure(ConfigureRequest(modules: modules, configs: configs))
        case .pullConfig:
            return .pullConfig(type: try text(b.child("type")))
        case .mdCommand:
            var commands: [ModuleCommand] = []
            for c in b.children(named: "md-command") {
                try checkAttributes(c, Self.idEncodingAttributes)
                commands.append(ModuleCommand(moduleID: try moduleID(c, required: false) ?? 0, command: try payload(c)))
            }
            return .mdCommand(commands)
        case .readStatus, .clearStatus:
            if isDone { return .statusReports(try statusReports(b)) }
            var requests: [StatusRequest] = []
            for s in b.children(named: "status-request") {
                try checkAttributes(s, Self.idEncodingAttributes)
                requests.append(StatusRequest(moduleID: try moduleID(s, required: false), parameter: try payload(s)))
            }
            return .statusRequests(requests)
        case .readStorage:
            if isDone {
                var configs: [ModuleConfig] = []
                for c in b.children(named: "md-config") {
                    try checkAttributes(c, Self.pushedConfigAttributes)
                    configs.append(ModuleConfig(id: try moduleID(c, required: true) ?? 0, content: try payload(c),
                                                commitOrder: c.attribute("commit-order")))
                }
                return .storedConfigs(configs)
            }
            return .readStorage(storage: try text(b.child("storage")))
        case .ping:
            if isDone {
                let success = try int(b.child("success"), "success")
                let failure = try int(b.child("failure"), "failure")
                if success == nil && failure == nil { return .empty }
                return .pingResult(success: success ?? 0, failure: failure ?? 0)
            }
            return .ping(PingRequest(address: try text(b.child("address")),
                                     count: try int(b.child("count"), "count"),
                                     size: try int(b.child("size"), "size")))
        case .traceroute:
            if isDone {
                var hops: [TracerouteHop] = []
                for n in b.children(named: "nodeinfo") {
                    guard let h = n.attribute("hop") else { throw .missingElement("nodeinfo@hop") }
                    guard let hop = try integer(h, "nodeinfo@hop", required: true) else { throw .missingElement("nodeinfo@hop") }
                    hops.append(TracerouteHop(hop: hop, address: try text(n) ?? ""))
                }
                return .tracerouteResult(hops)
            }
            return .traceroute(TracerouteRequest(address: try text(b.child("address")),
                                                 count: try int(b.child("count"), "count"),
                                                 maxHop: try int(b.child("max-hop"), "max-hop")))
        case .reboot, .dumpDebug, .checkTransaction, .readModuleList, .genericError:
            return .empty
        }
    }

    private func statusReports(_ b: XMLElement) throws(ARMSDecodeError) -> [StatusReport] {
        var reports: [StatusReport] = []
        for s in b.children(named: "status-report") {
            guard let r = s.attribute("result") else { throw .missingElement("status-report@result") }
            guard let result = try integer(r, "status-report@result", required: true) else {
                throw .missingElement("status-report@result")
            }
            reports.append(StatusReport(moduleID: try moduleID(s, required: true) ?? 0, result: ResultCode(result),
                                        report: try payload(s)))
        }
        return reports
    }

    // MARK: response bodies

    private func responseBody(_ type: MessageType, _ b: XMLElement) throws(ARMSDecodeError) -> ResponseBody {
        switch type.name {
        case .rsSolicitation:
            var r = RSSolicitationResult()
            r.rsPresharedKey = try text(b.child("rs-preshared-key"))
            r.llTimeout = try int(b.child("ll-timeout"), "ll-timeout")
            r.rsRetryMax = try int(b.child("rs-retry-max"), "rs-retry-max")
            r.rsRetryInterval = try int(b.child("rs-retry-interval"), "rs-retry-interval")
            r.lifetime = try int(b.child("lifetime"), "lifetime")
            for info in b.children(named: "rs-info") {
                for u in info.children(named: "url") { r.urls.append(try text(u) ?? "") }
                for m in info.children(named: "md-config") { r.locationConfigs.append(try text(m) ?? "") }
            }
            if r.urls.count > 5 { throw .tooMany(element: "rs-info/url", limit: 5) }
            if r.locationConfigs.count > 5 { throw .tooMany(element: "rs-info/md-config", limit: 5) }
            return .rsSolicitation(r)
        case .configSolicitation:
            var r = ConfigSolicitationResult()
            r.saCertificate = try text(b.child("sa-certificate"))
            r.saPrivateKey = try text(b.child("sa-private-key"))
            if let p = b.child("proposal-for-sa") {
                r.proposedPushPort = try int(p.child("push-port"), "push-port")
                r.proposedPushTimeout = try int(p.child("push-timeout"), "push-timeout")
            }
            let infos = b.children(named: "heartbeat-info")
            if infos.count > 5 { throw .tooMany(element: "heartbeat-info", limit: 5) }
            for hb in infos {
                guard let host = try text(hb.child("host")) else { throw .missingElement("heartbeat-info/host") }
                guard let pass = try text(hb.child("passphrase")) else { throw .missingElement("heartbeat-info/passphrase") }
                r.heartbeatServers.append(HeartbeatServerInfo(
                    host: host, port: try int(hb.child("port"), "port"), passphrase: pass,
                    interval: try int(hb.child("interval"), "interval"),
                    algorithms: try texts(hb, "algorithm", limit: nil)))
            }
            r.healthURL = try text(b.child("health-url"))
            r.healthInterval = try text(b.child("health-interval"))
            r.pollURL = try text(b.child("poll-url"))
            r.pollInterval = try text(b.child("poll-interval"))
            r.rsPushServerAddresses = try texts(b, "rs-push-server-address", limit: 5)
            r.rsPullServerURLs = try texts(b, "rs-pull-server-url", limit: 5)
            (r.modules, r.configs) = try modulesAndConfigs(b, configAttributes: Self.pulledConfigAttributes)
            return .configSolicitation(r)
        case .pushMethodQuery:
            return .pushMethodQuery(PushMethodQueryResult(
                methods: try texts(b, "push-method", limit: 5),
                tunnelURLs: try texts(b, "https-tunnel-url", limit: 5),
                echoInterval: try int(b.child("https-tunnel-echo-interval"), "https-tunnel-echo-interval")))
        case .mdCommand, .dumpDebug:
            guard let m = b.child("md-result") else { return .moduleResult(nil) }
            try checkAttributes(m, Self.idEncodingAttributes)
            return .moduleResult(ModuleResult(moduleID: try moduleID(m, required: false) ?? 0, output: try payload(m)))
        case .readModuleList:
            var modules: [ModuleInfo] = []
            for m in b.children(named: "module") { modules.append(try module(m)) }
            return .moduleList(modules)
        case .checkTransaction:
            var ids: [Int] = []
            for t in b.children(named: "transaction-id") {
                guard let v = try int(t, "transaction-id", required: true) else { throw .missingElement("transaction-id") }
                ids.append(v)
            }
            return .transactionIDs(ids)
        default:
            return .empty
        }
    }

    // MARK: shared pieces

    /// `<module>` entries, all before the first `<md-config>` (pull.md §5.3, push.md §6.1).
    private func modulesAndConfigs(_ b: XMLElement, configAttributes: Set<String>) throws(ARMSDecodeError) -> ([ModuleInfo], [ModuleConfig]) {
        var modules: [ModuleInfo] = []
        var configs: [ModuleConfig] = []
        for c in b.children {
            switch c.name {
            case "module":
                if !configs.isEmpty { throw .outOfOrder("<module id=\"\(c.attribute("id") ?? "")\"> after an <md-config>") }
                modules.append(try module(c))
            case "md-config":
                try checkAttributes(c, configAttributes)
                configs.append(ModuleConfig(id: try moduleID(c, required: true) ?? 0, content: try payload(c),
                                            contentType: c.attribute("content-type"), commitOrder: c.attribute("commit-order")))
            default:
                continue
            }
        }
        return (modules, configs)
    }

    private func module(_ m: XMLElement) throws(ARMSDecodeError) -> ModuleInfo {
        try checkAttributes(m, Self.moduleAttributes)
        return ModuleInfo(id: try moduleID(m, required: true) ?? 0, version: m.attribute("version"),
                          installOrder: m.attribute("install-order"), info: try text(m) ?? "")
    }

    /// The `id` attribute: unsigned decimal (libarms reads `0x…` as 0; we refuse it).
    private func moduleID(_ e: XMLElement, required: Bool) throws(ARMSDecodeError) -> UInt32? {
        guard let raw = e.attribute("id") else {
            if required { throw .missingElement("\(e.name)@id") }
            return nil
        }
        guard !raw.isEmpty, raw.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let v = UInt32(raw) else {
            throw .badAttribute(element: e.name, attribute: "id", value: raw)
        }
        return v
    }

    private func payload(_ e: XMLElement) throws(ARMSDecodeError) -> Payload {
        let content = try text(e) ?? ""
        guard e.attribute("encoding") == "base64" else { return Payload(text: content) }
        do {
            return Payload(bytes: try Base64.decode(Array(content.utf8)), encoding: .base64)
        } catch {
            throw .badBase64(element: e.name, error)
        }
    }

    func checkAttributes(_ e: XMLElement, _ allowed: Set<String>) throws(ARMSDecodeError) {
        for a in e.attributes where !allowed.contains(a.name) {
            throw .unexpectedAttribute(element: e.name, attribute: a.name)
        }
    }

    /// Text content; a text element must not contain elements (libarms' stack breaks).
    func text(_ e: XMLElement?) throws(ARMSDecodeError) -> String? {
        guard let e else { return nil }
        if let child = e.children.first { throw .elementInText(element: e.name, child: child.name) }
        return e.text
    }

    private func texts(_ parent: XMLElement, _ name: String, limit: Int?) throws(ARMSDecodeError) -> [String] {
        let elements = parent.children(named: name)
        if let limit, elements.count > limit { throw .tooMany(element: name, limit: limit) }
        var out: [String] = []
        for e in elements { out.append(try text(e) ?? "") }
        return out
    }

    func int(_ e: XMLElement?, _ name: String, required: Bool = false) throws(ARMSDecodeError) -> Int? {
        guard let e else { return nil }
        guard let t = try text(e) else { return nil }
        return try integer(t, name, required: required)
    }

    /// Applies the integer rule to a text value.
    func integer(_ t: String, _ name: String, required: Bool) throws(ARMSDecodeError) -> Int? {
        var bytes = Substring(t).utf8[...]
        if options.integers == .libarms {
            while let f = bytes.first, f == 0x20 || (0x09...0x0D).contains(f) { bytes = bytes.dropFirst() }
            if bytes.isEmpty { return 0 }
        }
        var negative = false
        if let f = bytes.first, f == UInt8(ascii: "-") || (f == UInt8(ascii: "+") && options.integers == .libarms) {
            negative = f == UInt8(ascii: "-")
            bytes = bytes.dropFirst()
        }
        var value = 0
        var valid = !bytes.isEmpty && bytes.count <= 18
        if valid {
            for c in bytes {
                guard c >= 0x30 && c <= 0x39 else { valid = false; break }
                value = value * 10 + Int(c - 0x30)
            }
        }
        if !valid {
            if options.integers == .libarms && !required { return nil }
            throw .badInteger(element: name, text: t)
        }
        return negative ? -value : value
    }
}
