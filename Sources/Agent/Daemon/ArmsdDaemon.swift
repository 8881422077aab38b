import Glibc

/// armsd's life cycle (agent.md §1, §4): configuration, working directory, state
/// cache, pull with callback scripts, and the dispatch on how the pull ended.
public final class ArmsdDaemon {
    public let options: ArmsdOptions
    public let configuration: ArmsdConfiguration
    public let distributionID: DistributionID
    let logger: Logger
    let workingDirectory: WorkingDirectory
    let scripts: ScriptRunner
    let initialConfig: InitialConfig
    let rootCAPEM: String
    var modules = ModuleTable()
    var knowledge = PullKnowledge()
    var state: AgentState = .initial
    var trigger = "power on boot"
    var identity: TLSClientIdentity?
    /// Whether this process daemonized (and so wrote the PID file).
    var daemonized = false
    let clock = ContinuousClock()
    let started: ContinuousClock.Instant

    /// What went wrong before the daemon could start; `main` prints it and exits 1.
    public struct StartupError: Error, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }

    /// Reads the configuration and prepares everything that can fail before any traffic.
    public init(options: ArmsdOptions) throws(StartupError) {
        self.options = options
        let text: [UInt8]
        do {
            text = try AtomicFile.read(options.configPath, maxBytes: 1 << 20)
        } catch {
            throw StartupError("cannot read configuration \(options.configPath): \(error.reason)")
        }
        let parsed: (configuration: ArmsdConfiguration, warnings: [ArmsdConfiguration.Warning])
        do {
            parsed = try ArmsdConfiguration.parse(String(decoding: text, as: UTF8.self), fileName: options.configPath)
        } catch {
            throw StartupError(error.description)
        }
        for warning in parsed.warnings { Self.stderr("\(warning)") }
        configuration = parsed.configuration

        guard let id = options.distributionID?.id ?? configuration.distributionID else {
            throw StartupError("no distribution-id")
        }
        distributionID = id

        guard let caPath = configuration.pathRootCA else {
            throw StartupError("\(options.configPath): path-root-ca: required (this agent has no built-in ARMS Root CA)")
        }
        do {
            let pem = try AtomicFile.read(caPath, maxBytes: 5120)
            rootCAPEM = String(decoding: pem, as: UTF8.self)
        } catch {
            throw StartupError("\(options.configPath): path-root-ca: cannot read \(caPath): \(error.reason)")
        }

        if let path = configuration.pathIConfig {
            do {
                let bytes = try AtomicFile.read(path, maxBytes: 64 << 10)
                initialConfig = try InitialConfig(parsing: String(decoding: bytes, as: UTF8.self))
            } catch {
                throw StartupError("Cannot load configuration. (\(path): \(error))")
            }
        } else {
            initialConfig = .libarmsBuiltIn
        }

        do {
            logger = try Logger.standard(logFile: options.logFile, verbose: options.verbose, foreground: options.foreground)
        } catch {
            throw StartupError("cannot open log file: \(error)")
        }
        do {
            workingDirectory = try WorkingDirectory(explicitPath: options.workingDirectory)
        } catch {
            throw StartupError("cannot make resource directories: \(error)")
        }
        scripts = ScriptRunner(distributionID: distributionID, logger: logger)
        started = clock.now
    }

    static func stderr(_ line: String) {
        let bytes = Array((line + "\n").utf8)
        _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    }

    // MARK: life cycle

    /// Runs until the daemon exits; returns the process exit status.
    public func run() -> Int32 {
        SignalWatcher.start(onTerminate: { [self] signal in
            logger.info("signal \(signal) caught. exit.")
            _ = workingDirectory.cleanUp()
            removePIDFile()
            SignalWatcher.exitNow(1)
        }, onHangUp: { [self] in
            logger.info("sighup received: reload configuration")
        })
        if !options.foreground && !options.waitBeforeDaemonizing {
            daemonize()
        }
        logger.info("armsd version \(AgentVersion.agent), with libarms \(AgentVersion.libarmsCompatible) (Release)")
        restoreStateCache()

        while true {
            let result = pull()
            switch result {
            case .success(let answer, _):
                logger.info("initial configuration succeeded")
                saveStateCache()
                if let pem = answer.saCertificate, let key = answer.saPrivateKey {
                    identity = try? TLSClientIdentity(certificatePEM: pem, privateKeyPEM: key)
                }
                let post = scripts.run(.postPull, arguments: [], configuration: configuration)
                if post.isConfigured && !post.succeeded {
                    return finish(.reboot)
                }
                let end = pushPhase(answer)
                if case .pull(let pullTrigger, let forget) = end {
                    trigger = pullTrigger
                    if forget { knowledge.rsEndpoint = nil }
                    logger.info("reconfigure by ARMS pull requested")
                    stopAllModules()
                    continue
                }
                if case .methodFailed = end {
                    trigger = "retry is over"
                    logger.info("reconfigure by ARMS pull requested")
                    stopAllModules()
                    continue
                }
                return finish(end.code)
            case .failure(let code):
                logger.error("arms_pull failed")
                if code == .pull {
                    logger.info("reconfigure by ARMS pull requested")
                    stopAllModules()
                    continue
                }
                return finish(code)
            }
        }
    }

    /// agent.md §4 step 11: how the daemon ends for a given result.
    func finish(_ code: ARMSErrorCode) -> Int32 {
        switch code {
        case .reboot:
            logger.info("reboot requested. exit.")
        case .dontRetry:
            logger.error("LS/RS denied pull access. exit.")
        default:
            logger.error("arms system failed: level = \(code.level), type = \(code.type), code = \(code.rawValue)")
        }
        stopAllModules()
        _ = workingDirectory.cleanUp()
        removePIDFile()
        if code != .dontRetry {
            _ = scripts.run(.reboot, arguments: [], configuration: configuration)
        }
        return 0
    }

    func daemonize() {
        guard daemon(0, 0) == 0 else { return }
        SignalWatcher.restartAfterFork()
        daemonized = true
        logger.daemonized()
        logger.debug("daemonized")
        let pid = Array("\(getpid())\n".utf8)
        try? AtomicFile.write(pid, to: configuration.pathPID, mode: 0o644)
    }

    func removePIDFile() {
        if daemonized { unlink(configuration.pathPID) }
    }

    // MARK: state cache

    func restoreStateCache() {
        let result = StateCacheFile.load(path: configuration.pathStateCache, logger: logger)
        guard let cache = result.cache else { return }
        var k = PullKnowledge()
        k.rsEndpoint = cache.rsEndpoint.isEmpty ? nil : cache.rsEndpoint
        k.rsPresharedKey = cache.rsPresharedKey
        k.rsRetryMax = cache.retryMax
        k.rsRetryInterval = cache.retryInterval
        k.llTimeout = cache.llTimeout
        k.lines = cache.lines
        k.lastLine = cache.lastLine
        k.rsURLs = cache.rsServers.map(\.url)
        k.rsCertificates = cache.rsServers.map(\.caPEM)
        k.currentServer = cache.currentServer
        knowledge = k
    }

    func saveStateCache() {
        let k = knowledge
        let servers = zip(k.rsURLs.indices, k.rsURLs).map { i, url in
            StateCache.RSServer(url: url, caPEM: i < k.rsCertificates.count ? k.rsCertificates[i] : nil)
        }
        do {
            let cache = try StateCache(rsEndpoint: k.rsEndpoint ?? "", retryMax: k.rsRetryMax, retryInterval: k.rsRetryInterval,
                                       llTimeout: k.llTimeout, lines: k.lines, lastLine: k.lastLine,
                                       rsPresharedKey: k.rsPresharedKey, rsServers: servers,
                                       currentServer: k.currentServer, result: 0)
            StateCacheFile.save(cache, path: configuration.pathStateCache, logger: logger)
        } catch {
            logger.warn("cannot save state cache (ignored): \(error)")
        }
    }

    // MARK: pull

    var now: Double {
        let d = clock.now - started
        return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    func pull() -> PullResult {
        let settings = PullSettings(
            distributionID: distributionID, description: configuration.saModelName,
            firmwareInfo: configuration.saVersion ?? AgentVersion.agent,
            lsURLs: initialConfig.lsURLs, lsRetry: initialConfig.lsRetryPolicy, lsKey: configuration.lsSAKey)
        var machine = PullMachine(settings: settings, knowledge: knowledge, state: state, trigger: trigger)
        var exchanger = PullExchanger(distributionID: distributionID, rootCAPEM: rootCAPEM, identity: identity)
        exchanger.lsProxy = proxyAddress(configuration.proxyForLSPull)
        exchanger.rsProxy = proxyAddress(configuration.proxyForRSPull)

        var actions = machine.handle(.start, now: now)
        while true {
            var event: PullEvent?
            for action in actions {
                switch action {
                case .log(let l):
                    logger.libarms(code: l.code, l.text)
                case .state(let from, let to):
                    changeState(from: from, to: to)
                case .controlLine(let a, let line, _):
                    event = .line(controlLine(a, line))
                case .exchange(let e):
                    var outcome = exchanger.perform(e) { logger.libarms(code: $0.code, $0.text) }
                    if e.server == .remoteServer, case .answered(let response) = outcome {
                        outcome = deliver(response)
                    }
                    event = .exchanged(outcome)
                case .wait(let seconds):
                    sleepSeconds(seconds)
                    event = .waited
                case .finish(let result):
                    knowledge = machine.knowledge
                    state = machine.state
                    trigger = machine.trigger
                    return result
                }
            }
            guard let next = event else {
                knowledge = machine.knowledge
                state = machine.state
                return .failure(.fatal)
            }
            actions = machine.handle(next, now: now)
        }
    }

    func changeState(from: AgentState, to: AgentState) {
        logger.info("state changed: \(from.name) -> \(to.name)")
        _ = scripts.run(.stateChanged, arguments: [from.name, to.name], configuration: configuration)
        state = to
    }

    func proxyAddress(_ setting: ArmsdConfiguration.ProxySetting?) -> SocketAddress? {
        guard case .proxy(let url)? = setting, let port = UInt16(exactly: url.port) else { return nil }
        return try? SocketAddress.numeric(host: url.host, port: port)
    }

    func sleepSeconds(_ seconds: Int) {
        var request = timespec(tv_sec: seconds, tv_nsec: 0)
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
    }

    /// The line-ctrl script (agent.md §5.2); static lines and a missing script count as up/down at once.
    func controlLine(_ action: LineAction, _ line: LineDefinition) -> LineStatus {
        let connectedAnswer: LineStatus = action == .disconnect ? .disconnected : .connected
        if line.type == .staticAddress { return connectedAnswer }
        guard configuration.scripts[.lineCtrl] != nil else { return connectedAnswer }
        var polls = 0
        var current = action
        while true {
            let result = scripts.run(.lineCtrl, arguments: lineArguments(current, line), configuration: configuration)
            logger.verboseInfo("line-ctrl callback called: action=\(current.rawValue), type=\(Self.lineScriptType(line))")
            if result.timedOut {
                logger.warn("script-line-ctrl timed out")
                return .timeout
            }
            switch result.exitStatus {
            case 128:
                polls += 1
                let limit = state == .lsPull ? 30 : max(knowledge.llTimeout, 0)
                if polls > limit { return .timeout }
                sleepSeconds(1)
                current = .status
            case 129: return .connected
            case 130: return .disconnected
            case 131: return .timeout
            case 132: return .authenticationFailure
            default:
                logger.error("script-line-ctrl return unknown exit status")
                return .callbackError
            }
        }
    }

    func lineArguments(_ action: LineAction, _ line: LineDefinition) -> [String] {
        var args = [action.rawValue, Self.lineScriptType(line), String(line.ifindex)]
        switch line {
        case .pppoe(let p), .pppoeIPv6(let p):
            args += [p.account, p.password]
        case .mobile(let m):
            args += [m.account, m.password, m.telno, String(m.cid), m.apn, m.pdpType]
        default:
            break
        }
        return args
    }

    static func lineScriptType(_ line: LineDefinition) -> String {
        switch line.type {
        case .pppoe: return "pppoe"
        case .pppoeIPv6: return "pppoe6"
        case .dhcp: return "dhcp"
        case .mobile: return "mobile"
        case .ra: return "ra"
        case .staticAddress: return "static"
        }
    }

    // MARK: modules

    /// An RS answer with a success code: check the SA certificate, sync the module
    /// list (stopping removed modules), and deliver each config through `start`
    /// (agent.md §5.2, §6), before libarms would log "RS Access Done".
    func deliver(_ response: ARMSResponse) -> PullExchangeOutcome {
        guard response.resultCode.isSuccess, case .configSolicitation(let answer)? = response.body else {
            return .answered(response)
        }
        if let pem = answer.saCertificate, let key = answer.saPrivateKey {
            do {
                _ = try TLSClientIdentity(certificatePEM: pem, privateKeyPEM: key)
            } catch {
                return .rejected(LibarmsLog(106, "Failed to register SA certificate and private key."))
            }
        }
        for gone in modules.sync(with: answer.modules) {
            stop(gone)
        }
        for config in answer.configs {
            guard let module = modules[config.id] else {
                return .rejected(LibarmsLog(200, "md-config for unknown module id \(config.id)"))
            }
            logger.verboseInfo("config callback called: id=\(config.id)")
            do {
                let file = try workingDirectory.makeTemporaryFile(contents: config.content.bytes)
                _ = scripts.run(.start, arguments: [String(module.id), module.versionArgument, module.info, file],
                                configuration: configuration)
                // Moves the file into running-config (backup and startup get copies).
                try workingDirectory.installPulledConfig(module: module.id, from: file)
            } catch {
                logger.warn("cannot store config of module \(module.id): \(error)")
            }
        }
        return .answered(response)
    }

    func stop(_ module: ModuleRecord) {
        _ = scripts.run(.stop, arguments: [String(module.id)], configuration: configuration)
        try? workingDirectory.removeModule(module.id)
    }

    func stopAllModules() {
        for m in modules.removeAll() { stop(m) }
    }
}
