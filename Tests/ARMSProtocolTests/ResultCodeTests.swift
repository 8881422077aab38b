import Testing
@testable import ARMSProtocol

@Suite struct ResultCodeTests {
    @Test func libarmsTextsIncludingTheirTypos() {
        #expect(ResultCode.success.text == "Success")
        #expect(ResultCode.authenticationFailure.text == "Authentication Falure")
        #expect(ResultCode.transactionFailure.text == "Transction Failure")
        #expect(ResultCode.addressMismatch.text == "Addresss Mismatch")
        #expect(ResultCode(999).text == "Unknown result")
        #expect(ResultCode(414).text == "SA Rollbacked")
    }

    @Test func classes() {
        #expect(ResultCode(99).resultClass == .belowRange)
        #expect(ResultCode(102).resultClass == .success)
        #expect(ResultCode(201).resultClass == .messageError)
        #expect(ResultCode(303).resultClass == .temporary)
        #expect(ResultCode(423).resultClass == .failure)
        #expect(ResultCode(501).resultClass == .fatal)
    }

    /// pull.md §3.4.
    @Test(arguments: [
        (100, PullOutcome.accept, PullOutcome.accept),
        (199, .accept, .accept),
        (99, .tryNextServer, .tryNextServer),
        (301, .tryNextServer, .tryNextServer),
        (403, .tryNextServer, .tryNextServer),
        (201, .reboot, .reboot),
        (501, .dontRetry, .dontRetry),
        (502, .pullAgain, .pullAgain),
        (503, .reboot, .reboot),
        (599, .reboot, .reboot),
    ])
    func pullOutcomes(code: Int, ls: PullOutcome, rs: PullOutcome) {
        #expect(PullOutcome.forLocationServer(ResultCode(code)) == ls)
        #expect(PullOutcome.forRemoteServer(ResultCode(code)) == rs)
    }

    @Test func missingResultCodeDiffersBetweenLSAndRS() {
        #expect(PullOutcome.forLocationServer(nil) == .reboot)
        #expect(PullOutcome.forRemoteServer(nil) == .tryNextServer)
    }

    /// push.md §2.4.
    @Test func pushOutcomes() {
        #expect(PushOutcome.classify(100, isDoneResponse: false) == .success)
        #expect(PushOutcome.classify(203, isDoneResponse: false) == .pullAgain)
        #expect(PushOutcome.classify(301, isDoneResponse: false) == .retryOrAccept)
        #expect(PushOutcome.classify(499, isDoneResponse: true) == .retryOrAccept)
        #expect(PushOutcome.classify(501, isDoneResponse: true) == .dontRetry)
        #expect(PushOutcome.classify(502, isDoneResponse: false) == .pullAgain)
        #expect(PushOutcome.classify(503, isDoneResponse: false) == .reboot)
        #expect(PushOutcome.classify(507, isDoneResponse: false) == .noPushMethod)
        #expect(PushOutcome.classify(507, isDoneResponse: true) == .reboot)
        #expect(PushOutcome.classify(508, isDoneResponse: false) == .pullAgain)
        #expect(PushOutcome.classify(550, isDoneResponse: false) == .reboot)
    }
}
