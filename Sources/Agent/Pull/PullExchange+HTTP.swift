import ARMSProtocol

// The HTTP side of one pull exchange, shared by armsd's blocking exchanger and the fleet
// simulator's event-loop one: what is sent and how an answer is judged.

extension PullExchange {
    /// The message type the answer must carry.
    public var expectedAnswer: MessageType { server == .locationServer ? .rsSolicitation : .configSolicitation }

    /// The request as libarms sends it: `POST` to `path`, Basic credentials (distribution
    /// id and this exchange's key), the request document.
    public func httpRequest(path: String, distributionID: DistributionID) -> [UInt8] {
        HTTPClientRequest.post(path: path, credentials: BasicCredentials(distributionID: distributionID, key: password),
                               body: request.encode(style: .libarms).bytes)
    }

    /// What a complete answer means for the pull: a status of 400 or more is `.httpStatus`,
    /// else the decoded ARMS answer, or `.undecodable` with why.
    public func outcome(of response: HTTPResponse) -> PullExchangeOutcome {
        let status = response.head.status.code
        guard status < 400 else { return .httpStatus(status) }
        do {
            return .answered(try ARMSResponse.decode(response.body, expecting: expectedAnswer, options: .libarms))
        } catch {
            return .undecodable(error)
        }
    }
}
