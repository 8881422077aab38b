import Glibc

/// A failed system call of the runtime (files, directories, processes).
/// `description` reads like armsd's messages: `mkdir("/tmp/armsd.1") failed: File exists`.
public struct SystemError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The call that failed (`open`, `rename`, `posix_spawn`, ...).
    public var operation: String
    /// The path it was about, or empty.
    public var path: String
    /// `errno`.
    public var code: Int32

    public init(_ operation: String, path: String = "", code: Int32) {
        self.operation = operation
        self.path = path
        self.code = code
    }

    /// The C library's text for `code`.
    public var reason: String { errorText(code) }

    public var description: String {
        path.isEmpty ? "\(operation)() failed: \(reason)" : "\(operation)(\"\(path)\") failed: \(reason)"
    }
}

/// `strerror_r` text for an errno value (Glibc exports the XSI variant).
func errorText(_ code: Int32) -> String {
    var buffer = [CChar](repeating: 0, count: 256)
    let status = buffer.withUnsafeMutableBufferPointer { strerror_r(code, $0.baseAddress!, $0.count) }
    guard status == 0 else { return "error \(code)" }
    return buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
}

/// Runs a system call again while it fails with EINTR.
@inline(__always)
func retryingOnInterrupt<T: SignedInteger>(_ call: () -> T) -> T {
    while true {
        let result = call()
        if result == -1 && errno == EINTR { continue }
        return result
    }
}
