import BosunCore
import Hummingbird

extension Request {
    /// The body of a YAML upload (manifest, config) as text: at most 64 MiB, and invalid UTF-8
    /// refused with its position (400) instead of decoded with replacement characters.
    func yamlText(source: String) async throws -> String {
        let limit = YAMLLimits.standard.maxDocumentBytes
        let buffer: ByteBuffer
        do {
            buffer = try await body.collect(upTo: limit)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw DirectorError(
                .contentTooLarge, code: 440_001, "\(source): over the \(limit >> 20) MiB limit for a YAML document")
        }
        do {
            return try YAMLValue.text(decoding: buffer.readableBytesView, source: source)
        } catch {
            throw DirectorError(.badRequest, code: 440_001, error.description)
        }
    }
}
