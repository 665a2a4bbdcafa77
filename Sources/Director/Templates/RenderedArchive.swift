import BosunCore
import Crypto
import Foundation
import Subprocess
import SystemPackage

/// An instance's rendered jobs as the gzipped tarball agents unpack (`<job>/<path>`), built in
/// memory: rendered templates hold credentials, so they never pass through a file on the director.
struct RenderedArchive: Sendable {
    /// The `.tgz` bytes.
    var bytes: Data
    /// SHA-1 hex of `bytes`, as the apply spec and `upload_blob` carry it.
    var sha1: String
    /// What the unpacked jobs take on a tmpfs: each file in whole pages.
    var tmpfsBytes: Int

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Every job gets its directory, even one without templates; files are 0644 as in BOSH (the
    /// agent sets the final modes).
    static func build(files: [String: String], jobs: [String]) async throws -> RenderedArchive {
        var tar = TarWriter()
        var directories = Set<String>()
        func addDirectories(of path: String) {
            var prefix = ""
            for part in path.split(separator: "/").dropLast() {
                prefix += part + "/"
                if directories.insert(prefix).inserted { tar.append(directory: prefix) }
            }
        }
        for job in jobs.sorted() where directories.insert(job + "/").inserted { tar.append(directory: job + "/") }
        var unpacked = 0
        for path in files.keys.sorted() {
            addDirectories(of: path)
            let contents = Data(files[path]!.utf8)
            unpacked += (contents.count + TemplateSizeCheck.pageSize - 1) / TemplateSizeCheck.pageSize * TemplateSizeCheck.pageSize
            tar.append(file: path, contents: contents)
        }
        let gzipped = try await gzip(tar.finish())
        let sha1 = Insecure.SHA1.hash(data: gzipped).map { String(format: "%02x", $0) }.joined()
        return RenderedArchive(bytes: gzipped, sha1: sha1, tmpfsBytes: unpacked)
    }

    /// `gzip -n` through pipes.
    static func gzip(_ data: Data) async throws -> Data {
        let finished = try await Subprocess.run(
            .path(FilePath("/bin/gzip")), arguments: ["-n", "-c"], input: .data(data), output: .data(limit: 1 << 30),
            error: .string(limit: 4096))
        guard finished.terminationStatus.isSuccess else {
            throw Failure(description: "gzip failed (\(finished.terminationStatus)): \(finished.standardError)")
        }
        return finished.standardOutput
    }
}

/// A POSIX ustar archive in memory: regular files and directories, owned by root, fixed mtime.
struct TarWriter {
    private(set) var data = Data()

    mutating func append(directory path: String) {
        appendHeader(path: path, size: 0, mode: 0o755, type: UInt8(ascii: "5"))
    }

    mutating func append(file path: String, contents: Data) {
        appendHeader(path: path, size: contents.count, mode: 0o644, type: UInt8(ascii: "0"))
        data.append(contents)
        data.append(Data(count: (512 - contents.count % 512) % 512))
    }

    /// The archive with its two zero end blocks.
    mutating func finish() -> Data {
        data.append(Data(count: 1024))
        return data
    }

    /// A 512-byte header; names over 100 bytes are split into ustar's prefix (up to 155) and name.
    private mutating func appendHeader(path: String, size: Int, mode: Int, type: UInt8) {
        var name = Array(path.utf8)
        var prefix: [UInt8] = []
        if name.count > 100, let cut = name[..<min(name.count, 156)].lastIndex(of: UInt8(ascii: "/")), name.count - cut - 1 <= 100 {
            prefix = Array(name[..<cut])
            name = Array(name[(cut + 1)...])
        }
        var header = [UInt8](repeating: 0, count: 512)
        func put(_ bytes: [UInt8], at offset: Int, max: Int) {
            for (position, byte) in bytes.prefix(max).enumerated() { header[offset + position] = byte }
        }
        func octal(_ value: Int, width: Int) -> [UInt8] {
            Array(String(value, radix: 8).leftPadded(to: width - 1).utf8) + [0]
        }
        put(name, at: 0, max: 100)
        put(octal(mode, width: 8), at: 100, max: 8)
        put(octal(0, width: 8), at: 108, max: 8)
        put(octal(0, width: 8), at: 116, max: 8)
        put(octal(size, width: 12), at: 124, max: 12)
        put(octal(0, width: 12), at: 136, max: 12)
        put(Array(repeating: UInt8(ascii: " "), count: 8), at: 148, max: 8)
        header[156] = type
        put(Array("ustar".utf8) + [0], at: 257, max: 6)
        put(Array("00".utf8), at: 263, max: 2)
        put(Array("root".utf8), at: 265, max: 32)
        put(Array("root".utf8), at: 297, max: 32)
        put(prefix, at: 345, max: 155)
        let checksum = header.reduce(0) { $0 + Int($1) }
        put(Array(String(checksum, radix: 8).leftPadded(to: 6).utf8) + [0, UInt8(ascii: " ")], at: 148, max: 8)
        data.append(contentsOf: header)
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
