import Glibc

/// The push phase of the daemon (agent.md §4 steps 9–10): push-method-query,
/// then each offered method the SA can run, in the RS's order.
extension ArmsdDaemon {
    func pushSettings() -> PushSettings {
        PushSettings(distributionID: distributionID, description: configuration.saModelName,
                     presharedKey: knowledge.rsPresharedKey, retryMax: knowledge.rsRetryMax,
                     retryInterval: knowledge.rsRetryInterval)
    }

    /// Runs push-method-query and the push loop; returns how the loop ended.
    func pushPhase(_ answer: ConfigSolicitationResult) -> PushLoopEnd {
        let settings = pushSettings()
        guard let anchor = knowledge.rsTrustAnchor,
              let tls = try? TLSClientConfiguration.remoteServer(rsCertificate: anchor, identity: identity) else {
            logger.libarms(code: 106, "Failed to register RS CA certificate.")
            logger.info("push-method-query failed: \(ARMSErrorCode.pull.rawValue)")
            return .pull(trigger: "RS not found", forgetEndpoint: false)
        }
        // push.md §3.2/§3.5: https-simple needs the SA certificate (listener identity) and no HTTPS proxy.
        var simpleAvailable = identity != nil
        if case .proxy? = configuration.proxyForRSPull { simpleAvailable = false }
        let urls = PushMethodQuery.urlOrder(pullServerURLs: answer.rsPullServerURLs, rsURLCount: knowledge.rsURLs.count,
                                            currentServer: knowledge.currentServer)
        let exchanger = PushExchanger(tlsConfiguration: tls, credentials: settings.credentials)
        let request = PushMethodQuery.request(settings: settings,
                                              methods: PushMethodQuery.offeredMethods(simpleAvailable: simpleAvailable))
        var offer: (PushMethodQueryResult, SocketAddress)?
        rounds: for round in 0...max(0, settings.retryMax) {
            for url in urls {
                logger.libarms(code: 200, "[-] Start push-method-query")
                switch exchanger.methodQuery(url: url, request: request) {
                case .answered(let response, let local):
                    logger.libarms(code: 200, "[-] End push-method-query")
                    switch PushMethodQuery.verdict(response) {
                    case .offered(let result):
                        offer = (result, local)
                        break rounds
                    case .retry:
                        continue
                    case .stop(let end):
                        logger.info("push-method-query failed: \(end.code.rawValue)")
                        return end
                    }
                case .failed(let reason):
                    logger.libarms(code: 200, "push-method-query: \(url): \(reason)")
                }
            }
            if round < settings.retryMax {
                logger.libarms(code: 50, "retry push-method-query (\(round + 1)/\(settings.retryMax)), wait \(settings.retryInterval) sec.")
                sleepSeconds(settings.retryInterval)
            }
        }
        guard let (result, local) = offer else {
            if urls.isEmpty { logger.libarms(code: 101, "push server not found") } else {
                logger.libarms(code: 111, "retry push-method-query is over.")
            }
            logger.info("push-method-query failed: \(ARMSErrorCode.pull.rawValue)")
            return .pull(trigger: urls.isEmpty ? "push server not found" : "retry is over", forgetEndpoint: false)
        }
        if options.waitBeforeDaemonizing && !options.foreground { daemonize() }

        let family: AddressFamily = local.family == .ipv6 ? .ipv6 : .ipv4
        let methods = PushMethodQuery.usableMethods(result, simpleAvailable: simpleAvailable)
        return PushMethodQuery.runMethods(methods, log: { [logger] in logger.libarms(code: $0.code, $0.text) }) { method in
            if method == PushMethod.httpsTunnel {
                return runTunnels(settings: settings, result: result, family: family, tls: tls, answer: answer)
            }
            guard let identity else { return nil }
            return runSimple(settings: settings, family: family, localHost: local.host, urls: urls,
                             identity: identity, exchanger: exchanger, answer: answer)
        }
    }

    func runTunnels(settings: PushSettings, result: PushMethodQueryResult, family: AddressFamily,
                    tls: TLSClientConfiguration, answer: ConfigSolicitationResult) -> PushLoopEnd {
        srandom(UInt32(truncatingIfNeeded: time(nil) ^ Int(getpid())))
        let machine = PushMachine(settings: settings, tunnelURLs: result.tunnelURLs, echoInterval: result.echoInterval,
                                  family: family, state: state,
                                  modules: modules.modules.map { ModuleInfo(id: $0.id, version: $0.version, info: $0.info) },
                                  randomID: { UInt32(truncatingIfNeeded: random()) })
        let runner = PushOperationRunner(configuration: configuration, workingDirectory: workingDirectory, scripts: scripts,
                                         logger: logger, distributionID: distributionID, modules: modules)
        runner.dumpDebugExtra = {
            var lines = [""]
            for (i, url) in answer.rsPullServerURLs.enumerated() { lines.append("Pull-URL.\(i): \(url)") }
            lines.append("")
            lines.append("Heartbeat Interval: \(answer.heartbeatServers.first?.interval ?? 0)")
            for (i, hb) in answer.heartbeatServers.enumerated() { lines.append("HB-Server.\(i): \(hb.host)#\(hb.port ?? 0)") }
            return lines
        }
        var hooks = PushLoopHooks()
        hooks.log = { [logger] line in logger.libarms(code: line.code, line.text) }
        hooks.stateChanged = { [unowned self] from, to in changeState(from: from, to: to) }
        let heartbeat = installHeartbeat(&hooks, answer: answer, family: family)
        let loop = PushLoop(machine: machine, tlsConfiguration: tls, hooks: hooks) { [unowned self] in
            perform($0, runner: runner, heartbeat: heartbeat)
        }
        let end = loop.run()
        modules = runner.modules
        state = loop.machine.state
        return end
    }

    /// The https-simple method (push.md §4.2, §7): listener on `-p` (default 10443).
    func runSimple(settings: PushSettings, family: AddressFamily, localHost: String, urls: [String],
                   identity: TLSClientIdentity, exchanger: PushExchanger, answer: ConfigSolicitationResult) -> PushLoopEnd {
        srandom(UInt32(truncatingIfNeeded: time(nil) ^ Int(getpid())))
        let resultURL = knowledge.rsURLs.indices.contains(knowledge.currentServer) ? knowledge.rsURLs[knowledge.currentServer] : (urls.first ?? "")
        let machine = SimplePushMachine(settings: settings, family: family, localHost: localHost, port: options.pushPort,
                                        pullServerURLs: urls, resultURL: resultURL, state: state,
                                        modules: modules.modules.map { ModuleInfo(id: $0.id, version: $0.version, info: $0.info) },
                                        randomID: { UInt32(truncatingIfNeeded: random()) })
        let runner = PushOperationRunner(configuration: configuration, workingDirectory: workingDirectory, scripts: scripts,
                                         logger: logger, distributionID: distributionID, modules: modules)
        var hooks = PushLoopHooks()
        hooks.log = { [logger] line in logger.libarms(code: line.code, line.text) }
        hooks.stateChanged = { [unowned self] from, to in changeState(from: from, to: to) }
        let heartbeat = installHeartbeat(&hooks, answer: answer, family: family)
        let server = TLSServerConfiguration(identity: identity, trustedCAPEM: knowledge.rsTrustAnchor)
        let loop = SimplePushLoop(machine: machine, serverConfiguration: server, exchanger: exchanger, hooks: hooks) { [unowned self] in
            perform($0, runner: runner, heartbeat: heartbeat)
        }
        let end = loop.run()
        modules = runner.modules
        state = loop.machine.state
        return end
    }

    /// Heartbeats (heartbeat.md §6): a sender hosted by the push loop's poll, started
    /// when the state becomes PUSH_WAIT (first datagram at once), stopped with
    /// `Stop heartbeat.` when the loop leaves it, sending only to servers of the RS
    /// connection's address family. Ticks that fall inside a configure commit or
    /// rollback (which block the loop) are skipped, not sent late.
    func installHeartbeat(_ hooks: inout PushLoopHooks, answer: ConfigSolicitationResult, family: AddressFamily) -> HeartbeatSender {
        let sender = HeartbeatSender(distributionID: distributionID, configuration: configuration, logger: logger)
        sender.addressFamily = family == .ipv6 ? .ipv6 : .ipv4
        let servers = answer.heartbeatServers
        hooks.timers.append(sender)
        hooks.enteredPushWait = { sender.start(servers: servers, now: .now) }
        hooks.leftPushWait = { sender.stop() }
        return sender
    }

    /// Runs a push job, then drops the heartbeat ticks a configure step sat on.
    func perform(_ work: PushWork, runner: PushOperationRunner, heartbeat: HeartbeatSender) -> PushWorkResult {
        let result = runner.perform(work)
        switch work {
        case .configureStore, .configureCommit, .configureRevert: heartbeat.skipDueTicks(now: .now)
        default: break
        }
        return result
    }
}

extension HeartbeatSender: PushLoopTimer {
    public func fire(now: ContinuousClock.Instant) { tick(now: now) }
}
