/// The body element of a request; which case applies follows from the message type.
public enum RequestBody: Equatable, Sendable {
    /// `<X-request></X-request>` with no content we read (reboot, dump-debug,
    /// check-transaction, read-module-list, push-confirmation-done, configure-done).
    case empty
    /// rs-solicitation: the pull trigger.
    case rsSolicitation(trigger: String)
    case configSolicitation(ConfigSolicitationRequest)
    /// push-method-query: the methods the SA offers.
    case pushMethodQuery(methods: [String])
    /// push-confirmation-start: the method being confirmed and, for https-simple, the SA's endpoint.
    case pushConfirmationStart(method: String, endpoint: String?)
    /// push-ready (legacy).
    case pushReady(endpoint: String?)
    case configure(ConfigureRequest)
    /// pull-config: `LS` or `RS`.
    case pullConfig(type: String?)
    /// md-command: exactly one is valid; none → 203, several → 422.
    case mdCommand([ModuleCommand])
    /// read-status-start and clear-status-start.
    case statusRequests([StatusRequest])
    /// read-status-done and clear-status-done.
    case statusReports([StatusReport])
    case readStorage(storage: String?)
    /// read-storage-done.
    case storedConfigs([ModuleConfig])
    case ping(PingRequest)
    /// ping-done with its counts; an empty body (result 502/505) decodes as `.empty`.
    case pingResult(success: Int, failure: Int)
    case traceroute(TracerouteRequest)
    case tracerouteResult([TracerouteHop])
}

/// The body element of a response.
public enum ResponseBody: Equatable, Sendable {
    /// `<X-response></X-response>`.
    case empty
    case rsSolicitation(RSSolicitationResult)
    case configSolicitation(ConfigSolicitationResult)
    case pushMethodQuery(PushMethodQueryResult)
    /// md-command and dump-debug; `nil` writes an empty body element.
    case moduleResult(ModuleResult?)
    case moduleList([ModuleInfo])
    case transactionIDs([Int])
}

/// An `<arms-request>` document.
public struct ARMSRequest: Equatable, Sendable {
    public var type: MessageType
    /// The SA's result, in done requests only.
    public var transactionResult: ResultCode?
    /// Kept as written (the SA compares it exactly with its own id).
    public var distributionID: String?
    /// Omitted when `nil` or 0.
    public var transactionID: Int?
    /// The SA's description in SA requests (may be empty); RS requests carry none.
    public var description: String?
    /// RS requests only: where https-simple done requests go.
    public var resultURL: String?
    public var body: RequestBody

    public init(type: MessageType, transactionResult: ResultCode? = nil, distributionID: String? = nil,
                transactionID: Int? = nil, description: String? = nil, resultURL: String? = nil, body: RequestBody = .empty) {
        self.type = type
        self.transactionResult = transactionResult
        self.distributionID = distributionID
        self.transactionID = transactionID
        self.description = description
        self.resultURL = resultURL
        self.body = body
    }
}

/// An `<arms-response>` document.
public struct ARMSResponse: Equatable, Sendable {
    public var type: MessageType
    /// Omitted when `nil` or 0.
    public var transactionID: Int?
    public var resultCode: ResultCode
    /// `nil` omits the element; `ARMSResponse.standard` fills in libarms' fixed text.
    public var description: String?
    /// `error-reason` (LS/RS only, ignored by libarms).
    public var errorReason: String?
    /// `nil` writes no body element (the RS's done answers do this).
    public var body: ResponseBody?

    public init(type: MessageType, transactionID: Int? = nil, resultCode: ResultCode, description: String? = nil,
                errorReason: String? = nil, body: ResponseBody? = .empty) {
        self.type = type
        self.transactionID = transactionID
        self.resultCode = resultCode
        self.description = description
        self.errorReason = errorReason
        self.body = body
    }

    /// A response whose description is libarms' fixed text for the code.
    public static func standard(_ type: MessageType, _ code: ResultCode = .success, transactionID: Int? = nil,
                                body: ResponseBody? = .empty) -> ARMSResponse {
        ARMSResponse(type: type, transactionID: transactionID, resultCode: code, description: code.text, body: body)
    }
}

/// A whole ARMS document: the root `<arms-message>` holds one request or one response.
public enum ARMSMessage: Equatable, Sendable {
    case request(ARMSRequest)
    case response(ARMSResponse)

    public var type: MessageType {
        switch self {
        case .request(let r): return r.type
        case .response(let r): return r.type
        }
    }

    public var transactionID: Int? {
        switch self {
        case .request(let r): return r.transactionID
        case .response(let r): return r.transactionID
        }
    }
}
