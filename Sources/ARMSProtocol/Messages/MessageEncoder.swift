/// An encoded ARMS document, kept in the pieces libarms generates it in.
///
/// Most messages are one piece. libarms writes md-command and dump-debug
/// responses, and read-status, clear-status, read-storage and traceroute done
/// requests, piece by piece (one per callback result); the tunnel sends one
/// chunk per piece and https-simple one HTTP chunk per piece.
public struct EncodedMessage: Equatable, Sendable {
    /// Non-empty pieces in order.
    public var pieces: [[UInt8]]

    public init(pieces: [[UInt8]]) { self.pieces = pieces.filter { !$0.isEmpty } }

    /// The whole document.
    public var bytes: [UInt8] { pieces.count == 1 ? pieces[0] : pieces.flatMap { $0 } }
}

extension ARMSMessage {
    /// Encodes the document with no XML declaration and no whitespace between elements, as libarms writes.
    public func encode(style: XMLTextStyle = .libarms) -> EncodedMessage {
        switch self {
        case .request(let r): return r.encode(style: style)
        case .response(let r): return r.encode(style: style)
        }
    }
}

extension ARMSRequest {
    /// Encodes in libarms' element order: `transaction-result`, `distribution-id`,
    /// `transaction-id` (if non-zero), `description`, `result-url`, then the body element.
    public func encode(style: XMLTextStyle = .libarms) -> EncodedMessage {
        var w = XMLWriter(style: style)
        w.raw("<arms-message>")
        w.open("arms-request", [("type", type.attribute)])
        if let transactionResult { w.element("transaction-result", transactionResult.rawValue) }
        if let distributionID { w.element("distribution-id", distributionID) }
        if let transactionID, transactionID != 0 { w.element("transaction-id", transactionID) }
        if let description { w.element("description", description) }
        if let resultURL { w.element("result-url", resultURL) }
        let element = type.requestElement
        w.open(element)
        writeBody(&w)
        w.close(element)
        w.raw("</arms-request></arms-message>")
        return EncodedMessage(pieces: w.pieces)
    }

    private func writeBody(_ w: inout XMLWriter) {
        switch body {
        case .empty:
            break
        case .rsSolicitation(let trigger):
            w.element("trigger", trigger)
        case .configSolicitation(let r):
            w.element("protocol-version", r.protocolVersion)
            w.element("trigger", r.trigger)
            if let info = r.firmwareInfo { w.element("firmware-info", info) }
        case .pushMethodQuery(let methods):
            for m in methods { w.element("push-method", m) }
        case .pushConfirmationStart(let method, let endpoint):
            w.element("push-method", method)
            if let endpoint { w.element("push-endpoint", endpoint) }
        case .pushReady(let endpoint):
            if let endpoint { w.element("push-endpoint", endpoint) }
        case .configure(let c):
            for m in c.modules { w.module(m) }
            for config in c.configs { w.moduleConfig(config, allowContentType: false) }
        case .pullConfig(let t):
            if let t { w.element("type", t) }
        case .mdCommand(let commands):
            for c in commands {
                w.open("md-command", [("id", String(c.moduleID))] + c.command.encodingAttribute)
                w.payload(c.command)
                w.close("md-command")
            }
        case .statusRequests(let requests):
            for r in requests {
                w.open("status-request", (r.moduleID.map { [("id", String($0))] } ?? []) + r.parameter.encodingAttribute)
                w.payload(r.parameter)
                w.close("status-request")
            }
        case .statusReports(let reports):
            // read-status: `<status-report …>TEXT` and `</status-report>` are separate
            // pieces; clear-status writes each report as one piece.
            let splitClose = type.name == .readStatus
            for r in reports {
                w.breakPiece()
                w.open("status-report", [("id", String(r.moduleID))] + r.report.encodingAttribute + [("result", String(r.result.rawValue))])
                w.payload(r.report)
                if splitClose { w.breakPiece() }
                w.close("status-report")
            }
            w.breakPiece()
        case .readStorage(let storage):
            if let storage { w.element("storage", storage) }
        case .storedConfigs(let configs):
            for c in configs {
                w.breakPiece()
                w.open("md-config", [("id", String(c.id))] + c.content.encodingAttribute)
                w.payload(c.content)
                w.close("md-config")
            }
            w.breakPiece()
        case .ping(let p):
            if let a = p.address { w.element("address", a) }
            if let c = p.count { w.element("count", c) }
            if let s = p.size { w.element("size", s) }
        case .pingResult(let success, let failure):
            w.element("success", success)
            w.element("failure", failure)
        case .traceroute(let t):
            if let a = t.address { w.element("address", a) }
            if let c = t.count { w.element("count", c) }
            if let m = t.maxHop { w.element("max-hop", m) }
        case .tracerouteResult(let hops):
            for h in hops {
                w.breakPiece()
                w.element("nodeinfo", h.address, [("hop", String(h.hop))])
            }
            w.breakPiece()
        }
    }
}

extension ARMSResponse {
    /// Encodes in libarms' element order: `transaction-id` (if non-zero), `result-code`,
    /// `description`, then the body element. A push-confirmation-start answer puts
    /// `transaction-id` after `description`, as the answers libarms was seen to accept.
    public func encode(style: XMLTextStyle = .libarms) -> EncodedMessage {
        var w = XMLWriter(style: style)
        w.raw("<arms-message>")
        w.open("arms-response", [("type", type.attribute)])
        let idLast = type == .pushConfirmationStart
        if !idLast, let transactionID, transactionID != 0 { w.element("transaction-id", transactionID) }
        w.element("result-code", resultCode.rawValue)
        if let description { w.element("description", description) }
        if let errorReason { w.element("error-reason", errorReason) }
        if idLast, let transactionID, transactionID != 0 { w.element("transaction-id", transactionID) }
        if let body {
            let element = type.responseElement
            w.open(element)
            writeBody(body, &w)
            w.close(element)
        }
        w.raw("</arms-response></arms-message>")
        return EncodedMessage(pieces: w.pieces)
    }

    private func writeBody(_ body: ResponseBody, _ w: inout XMLWriter) {
        switch body {
        case .empty:
            break
        case .rsSolicitation(let r):
            if let k = r.rsPresharedKey { w.element("rs-preshared-key", k) }
            if let v = r.llTimeout { w.element("ll-timeout", v) }
            if let v = r.rsRetryMax { w.element("rs-retry-max", v) }
            if let v = r.rsRetryInterval { w.element("rs-retry-interval", v) }
            if let v = r.lifetime { w.element("lifetime", v) }
            for i in 0..<max(r.urls.count, r.locationConfigs.count) {
                w.open("rs-info")
                if i < r.urls.count { w.element("url", r.urls[i]) }
                if i < r.locationConfigs.count { w.element("md-config", r.locationConfigs[i]) }
                w.close("rs-info")
            }
        case .configSolicitation(let r):
            if let c = r.saCertificate { w.element("sa-certificate", c) }
            if let k = r.saPrivateKey { w.element("sa-private-key", k) }
            if r.proposedPushPort != nil || r.proposedPushTimeout != nil {
                w.open("proposal-for-sa")
                if let p = r.proposedPushPort { w.element("push-port", p) }
                if let t = r.proposedPushTimeout { w.element("push-timeout", t) }
                w.close("proposal-for-sa")
            }
            for hb in r.heartbeatServers {
                w.open("heartbeat-info")
                w.element("host", hb.host)
                if let p = hb.port { w.element("port", p) }
                w.element("passphrase", hb.passphrase)
                if let i = hb.interval { w.element("interval", i) }
                for a in hb.algorithms { w.element("algorithm", a) }
                w.close("heartbeat-info")
            }
            if let v = r.healthURL { w.element("health-url", v) }
            if let v = r.healthInterval { w.element("health-interval", v) }
            if let v = r.pollURL { w.element("poll-url", v) }
            if let v = r.pollInterval { w.element("poll-interval", v) }
            for a in r.rsPushServerAddresses { w.element("rs-push-server-address", a) }
            for u in r.rsPullServerURLs { w.element("rs-pull-server-url", u) }
            for m in r.modules { w.module(m) }
            for c in r.configs { w.moduleConfig(c, allowContentType: true) }
        case .pushMethodQuery(let r):
            for m in r.methods { w.element("push-method", m) }
            for u in r.tunnelURLs { w.element("https-tunnel-url", u) }
            if let e = r.echoInterval { w.element("https-tunnel-echo-interval", e) }
        case .moduleResult(let result):
            if let result {
                w.open("md-result", [("id", String(result.moduleID))] + result.output.encodingAttribute)
                w.breakPiece()
                w.payload(result.output)
                w.breakPiece()
                w.close("md-result")
            }
        case .moduleList(let modules):
            for m in modules { w.module(m) }
        case .transactionIDs(let ids):
            for id in ids { w.element("transaction-id", id) }
        }
    }
}

extension XMLWriter {
    mutating func module(_ m: ModuleInfo) {
        var attributes = [("id", String(m.id))]
        if let v = m.version { attributes.append(("version", v)) }
        if let o = m.installOrder { attributes.append(("install-order", o)) }
        element("module", m.info, attributes)
    }

    mutating func moduleConfig(_ c: ModuleConfig, allowContentType: Bool) {
        var attributes = [("id", String(c.id))]
        if allowContentType, let t = c.contentType { attributes.append(("content-type", t)) }
        if let o = c.commitOrder { attributes.append(("commit-order", o)) }
        attributes += c.content.encodingAttribute
        open("md-config", attributes)
        payload(c.content)
        close("md-config")
    }
}
