import ARMSProtocol

/// How a mock LS/RS answers credentials it refuses (pull.md §9.2 item 5: both make a
/// libarms client move on to the next URL or round).
public enum AuthFailureAnswer: String, Codable, CaseIterable, Sendable {
    /// `HTTP/1.0 200` carrying ARMS result-code 403 (Authentication Failure).
    case armsResult403 = "result-403"
    /// `HTTP/1.0 401 Unauthorized` with `WWW-Authenticate: Basic realm=""`.
    case http401 = "http-401"
}

/// Why Basic credentials were refused.
public enum SAAuthenticationFailure: Error, Equatable, Sendable, CustomStringConvertible {
    /// No `Authorization` header.
    case missingHeader
    /// The header is not readable Basic credentials.
    case unreadable(BasicAuthError)
    /// The user is not a distribution id.
    case notADistributionID(String)
    /// A distribution id that is not provisioned.
    case unknownSA(DistributionID)
    /// A provisioned SA with the wrong key.
    case wrongKey(DistributionID)

    /// `unknown-sa` or `bad-credentials`.
    public var outcome: String {
        switch self {
        case .notADistributionID, .unknownSA: return ExchangeOutcome.unknownSA
        case .missingHeader, .unreadable, .wrongKey: return ExchangeOutcome.badCredentials
        }
    }

    /// The distribution id the client claimed, when it is one.
    public var claimedSA: String? {
        switch self {
        case .unknownSA(let id), .wrongKey(let id): return id.description
        case .missingHeader, .unreadable, .notADistributionID: return nil
        }
    }

    public var description: String {
        switch self {
        case .missingHeader: return "no Authorization header"
        case .unreadable(let e): return e.description
        case .notADistributionID(let user): return "Basic user \"\(user)\" is not a distribution id"
        case .unknownSA(let id): return "SA \(id) is not provisioned"
        case .wrongKey(let id): return "wrong key for SA \(id)"
        }
    }
}

extension FleetStore {
    /// Checks HTTP Basic credentials (pull.md §2.5): the user is a provisioned
    /// distribution id (any case), the password is `key` of that SA (`\.lsKey` for
    /// the LS, `\.rsKey` for the RS), compared exactly.
    public func authenticate(_ head: HTTPRequestHead, key: KeyPath<SAProfile, String>) -> Result<SAProfile, SAAuthenticationFailure> {
        guard let value = head.headers["Authorization"] else { return .failure(.missingHeader) }
        let credentials: BasicCredentials
        do {
            credentials = try BasicCredentials(parsingHeaderValue: value)
        } catch {
            return .failure(.unreadable(error))
        }
        guard let id = DistributionID(credentials.user) else { return .failure(.notADistributionID(credentials.user)) }
        guard let profile = self[id] else { return .failure(.unknownSA(id)) }
        guard Self.sameKey(profile[keyPath: key], credentials.password) else { return .failure(.wrongKey(id)) }
        return .success(profile)
    }

    /// Compares without stopping at the first difference.
    private static func sameKey(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        var difference = x.count ^ y.count
        for i in 0..<min(x.count, y.count) { difference |= Int(x[i] ^ y[i]) }
        return difference == 0
    }
}

/// Building the answers of a mock LS/RS.
public enum ARMSAnswer {
    /// The XML declaration and CRLF that start every answer, as in the answers a libarms
    /// 5.33 client accepted (`mock-accepted-*.http`).
    public static let xmlDeclaration = Array("<?xml version=\"1.0\" encoding=\"US-ASCII\" ?>\r\n".utf8)

    /// The body of an answer: the declaration, then the document in 7-bit ASCII
    /// (`.asciiSafe`: non-ASCII text as character references).
    public static func body(_ response: ARMSResponse) -> [UInt8] {
        xmlDeclaration + response.encode(style: .asciiSafe).bytes
    }

    /// `HTTP/1.0 200 OK` with `Content-Length`, `text/xml`, the body above.
    public static func reply(_ response: ARMSResponse, facts: ExchangeFacts) -> ExchangeReply {
        var facts = facts
        facts.resultCode = response.resultCode.rawValue
        return .http(body: body(response), facts: facts)
    }
}

/// The checks every ARMS request to a mock LS/RS passes before its role's logic
/// runs: method, credentials, body, message type, distribution id.
public struct ARMSRequestGate: Sendable {
    /// The message types this endpoint answers.
    public var accepted: Set<MessageType>
    /// The `type` of error answers when the request's own type is not usable.
    public var defaultAnswerType: MessageType
    /// Which key of the SA is the Basic password.
    public var key: KeyPath<SAProfile, String> & Sendable
    public var authFailure: AuthFailureAnswer

    public init(accepted: Set<MessageType>, defaultAnswerType: MessageType, key: KeyPath<SAProfile, String> & Sendable,
                authFailure: AuthFailureAnswer) {
        self.accepted = accepted
        self.defaultAnswerType = defaultAnswerType
        self.key = key
        self.authFailure = authFailure
    }

    /// A request that passed: the decoded document and the authenticated SA.
    public struct Admitted: Sendable {
        public var request: ARMSRequest
        public var profile: SAProfile

        /// Facts for the journal, to be completed by the role.
        public func facts(outcome: String = ExchangeOutcome.ok, detail: String? = nil) -> ExchangeFacts {
            ExchangeFacts(sa: profile.distributionID.description, messageType: request.type.attribute,
                          outcome: outcome, detail: detail)
        }
    }

    public enum Decision: Sendable {
        case admitted(Admitted)
        case rejected(ExchangeReply)
    }

    /// Checks, in this order: `POST` (else `405`); Basic credentials against `fleet`
    /// (else `authFailure`: `unknown-sa` / `bad-credentials`); the body as an ARMS
    /// request (else ARMS 201/202/203 by the decode error, `decode-error`); a type in
    /// `accepted` (else ARMS 202, `decode-error`); a `distribution-id` element, if any,
    /// naming the authenticated SA (else ARMS 423, `id-mismatch`).
    ///
    /// Error answers are `HTTP/1.0 200` with a result code (the code classes a libarms
    /// client acts on: 2xx stops it, 4xx makes it try the next URL), except the
    /// `405` and an `http401` auth failure.
    public func check(_ request: HTTPRequest, fleet: FleetStore) -> Decision {
        let decoded = Result { () throws(ARMSDecodeError) -> ARMSRequest in try ARMSRequest.decode(request.body) }
        let messageType = (try? decoded.get())?.type.attribute

        guard request.head.method == "POST" else {
            return .rejected(.httpError(.methodNotAllowed, facts: ExchangeFacts(
                messageType: messageType, outcome: ExchangeOutcome.badRequest,
                detail: "method \(request.head.method), only POST is answered")))
        }

        let profile: SAProfile
        switch fleet.authenticate(request.head, key: key) {
        case .success(let p):
            profile = p
        case .failure(let failure):
            let facts = ExchangeFacts(sa: failure.claimedSA, messageType: messageType, outcome: failure.outcome,
                                      detail: failure.description)
            switch authFailure {
            case .armsResult403:
                let type = (try? decoded.get()).map(\.type).flatMap { accepted.contains($0) ? $0 : nil } ?? defaultAnswerType
                return .rejected(ARMSAnswer.reply(.standard(type, .authenticationFailure, body: nil), facts: facts))
            case .http401:
                return .rejected(.httpError(.unauthorized, facts: facts))
            }
        }
        let sa = profile.distributionID.description

        let armsRequest: ARMSRequest
        switch decoded {
        case .failure(let error):
            return .rejected(ARMSAnswer.reply(.standard(defaultAnswerType, error.resultCode, body: nil), facts: ExchangeFacts(
                sa: sa, messageType: messageType, outcome: ExchangeOutcome.decodeError, detail: error.description)))
        case .success(let r):
            armsRequest = r
        }
        guard accepted.contains(armsRequest.type) else {
            return .rejected(ARMSAnswer.reply(.standard(defaultAnswerType, .invalidMessageType, body: nil), facts: ExchangeFacts(
                sa: sa, messageType: messageType, outcome: ExchangeOutcome.decodeError,
                detail: "message type \(armsRequest.type) is not answered here")))
        }
        if let written = armsRequest.distributionID, DistributionID(written) != profile.distributionID {
            return .rejected(ARMSAnswer.reply(.standard(armsRequest.type, .distributionIDMismatch, body: nil), facts: ExchangeFacts(
                sa: sa, messageType: messageType, outcome: ExchangeOutcome.idMismatch,
                detail: "body names distribution id \"\(written)\", credentials \(sa)")))
        }
        return .admitted(Admitted(request: armsRequest, profile: profile))
    }
}

extension ExchangeServerConfiguration {
    /// An LS listener: role `.ls`, the `Location Server 127.0.0.1` certificate.
    public static func locationServer(endpoints: [ExchangeEndpoint] = [.loopbackIPv4()], tls: ServerTLS = .locationServer) -> Self {
        ExchangeServerConfiguration(role: .ls, endpoints: endpoints, tls: tls)
    }

    /// An RS listener: role `.rs`, the `Remote Server 127.0.0.1` certificate.
    public static func remoteServer(endpoints: [ExchangeEndpoint] = [.loopbackIPv4()], tls: ServerTLS = .remoteServer) -> Self {
        ExchangeServerConfiguration(role: .rs, endpoints: endpoints, tls: tls)
    }
}
