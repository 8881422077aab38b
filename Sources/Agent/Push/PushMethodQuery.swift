/// push-method-query (push.md §3): the request, the URL order and what an answer means.
public enum PushMethodQuery {
    /// The methods the SA offers: https-simple only with a listener and no proxy (push.md §3.2).
    public static func offeredMethods(simpleAvailable: Bool) -> [String] {
        simpleAvailable ? [PushMethod.httpsSimple, PushMethod.httpsTunnel] : [PushMethod.httpsTunnel]
    }

    public static func request(settings: PushSettings, methods: [String]) -> ARMSRequest {
        ARMSRequest(type: .pushMethodQuery, distributionID: settings.distid, description: settings.description,
                    body: .pushMethodQuery(methods: methods))
    }

    /// The rs-pull-server-url list rotated to start at the RS that answered the
    /// pull, when both lists have the same length (push.md §3.1).
    public static func urlOrder(pullServerURLs: [String], rsURLCount: Int, currentServer: Int) -> [String] {
        guard pullServerURLs.count == rsURLCount, pullServerURLs.indices.contains(currentServer) else { return pullServerURLs }
        return Array(pullServerURLs[currentServer...] + pullServerURLs[..<currentServer])
    }

    /// What one answer means (push.md §3.4).
    public enum Verdict: Equatable, Sendable {
        case offered(PushMethodQueryResult)
        /// Try the next URL / round.
        case retry
        case stop(PushLoopEnd)
    }

    public static func verdict(_ response: ARMSResponse) -> Verdict {
        let code = response.resultCode
        if code.isSuccess {
            if case .pushMethodQuery(let result)? = response.body { return .offered(result) }
            return .offered(PushMethodQueryResult())
        }
        switch code.rawValue {
        case 300..<500: return .retry
        case 507: return .stop(.pull(trigger: "no push method", forgetEndpoint: false))
        default: return PushLoopEnd.forResult(code).map(Verdict.stop) ?? .retry
        }
    }

    /// Methods to run, in the RS's order, that this SA can run.
    public static func usableMethods(_ result: PushMethodQueryResult, simpleAvailable: Bool) -> [String] {
        result.methods.filter { $0 == PushMethod.httpsTunnel || ($0 == PushMethod.httpsSimple && simpleAvailable) }
    }

    /// push.md §3.5: runs the usable methods in the RS's order until one does
    /// not fail its confirmation; `.pull("no push method")` when all fail.
    public static func runMethods(_ methods: [String], log: (LibarmsLog) -> Void = { _ in },
                                  run: (String) -> PushLoopEnd?) -> PushLoopEnd {
        for method in methods {
            guard let end = run(method) else { continue }
            if end != .methodFailed { return end }
        }
        log(LibarmsLog(105, "no push method."))
        return .pull(trigger: "no push method", forgetEndpoint: false)
    }
}
