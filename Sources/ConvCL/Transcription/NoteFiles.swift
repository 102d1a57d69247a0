import Foundation

/// Writes notes as a Standard MIDI File and as CSV.
public enum NoteFiles {
    /// A type-0 Standard MIDI File of `notes` on channel 1 (program 5, Electric Piano 1, as Basic
    /// Pitch writes them) at `ticksPerBeat` and 120 beats per minute. Pitch bends are written only
    /// for notes that overlap no other note (one channel bends every sounding note), scaled as
    /// Basic Pitch does (4096 per semitone, clipped to the 14-bit range) and reset when the note ends.
    /// A note whose velocity rounds to 0 is written with velocity 1 (0 would mean note off).
    public static func midi(_ notes: [NoteEvent], ticksPerBeat: Int = 480) -> [UInt8] {
        let ticksPerSecond = Double(ticksPerBeat) * 2  // 120 beats per minute
        func tick(_ seconds: Double) -> Int { max(0, Int((seconds * ticksPerSecond).rounded())) }
        let sorted = notes.sorted { ($0.start, $0.end, $0.pitch) < ($1.start, $1.end, $1.pitch) }
        var bends = sorted.map { $0.pitchBends != nil }
        for i in sorted.indices {
            for j in sorted.indices.dropFirst(i + 1) {
                if sorted[j].start >= sorted[i].end { break }
                bends[i] = false
                bends[j] = false
            }
        }
        // (tick, order at equal ticks: offs, then bends, then ons; bytes), kept in the order made
        // within equal keys (a bend's reset follows the bend).
        var events: [(tick: Int, order: Int, bytes: [UInt8])] = []
        for (index, note) in sorted.enumerated() {
            let pitch = UInt8(min(max(note.pitch, 0), 127))
            let (start, end) = (tick(note.start), max(tick(note.end), tick(note.start)))
            events.append((start, 2, [0x90, pitch, UInt8(max(note.velocity, 1))]))
            events.append((end, 0, [0x80, pitch, 0]))
            guard bends[index], let values = note.pitchBends, !values.isEmpty else { continue }
            for (k, value) in values.enumerated() {
                let time = values.count == 1 ? note.start : note.start + (note.end - note.start) * Double(k) / Double(values.count - 1)
                let amount = min(max(Int((Double(value) * 4096 / 3).rounded(.toNearestOrEven)), -8192), 8191) + 8192
                events.append((tick(time), 1, [0xE0, UInt8(amount & 0x7F), UInt8(amount >> 7)]))
            }
            events.append((end, 1, [0xE0, 0x00, 0x40]))
        }
        events = events.enumerated().sorted { ($0.element.tick, $0.element.order, $0.offset) < ($1.element.tick, $1.element.order, $1.offset) }.map(\.element)

        var track: [UInt8] = [0x00, 0xFF, 0x51, 0x03, 0x07, 0xA1, 0x20]  // tempo: 500000 µs per beat
        track += [0x00, 0xFF, 0x58, 0x04, 0x04, 0x02, 0x18, 0x08]  // 4/4
        track += [0x00, 0xC0, 0x04]  // program: Electric Piano 1
        var previous = 0
        for event in events {
            track += variableLength(event.tick - previous) + event.bytes
            previous = event.tick
        }
        track += [0x00, 0xFF, 0x2F, 0x00]
        var file = Array("MThd".utf8) + bigEndian(6, bytes: 4) + bigEndian(0, bytes: 2) + bigEndian(1, bytes: 2)
        file += bigEndian(ticksPerBeat, bytes: 2) + Array("MTrk".utf8) + bigEndian(track.count, bytes: 4) + track
        return file
    }

    /// Basic Pitch's CSV of notes: `start_time_s,end_time_s,pitch_midi,velocity,pitch_bend`, the
    /// pitch bends (thirds of a semitone) following the velocity, one column each.
    public static func csv(_ notes: [NoteEvent]) -> String {
        var text = "start_time_s,end_time_s,pitch_midi,velocity,pitch_bend\n"
        for note in notes {
            var row = ["\(note.start)", "\(note.end)", "\(note.pitch)", "\(note.velocity)"]
            row += (note.pitchBends ?? []).map(String.init)
            text += row.joined(separator: ",") + "\n"
        }
        return text
    }

    private static func variableLength(_ value: Int) -> [UInt8] {
        var bytes = [UInt8(value & 0x7F)]
        var rest = value >> 7
        while rest > 0 {
            bytes.insert(UInt8(rest & 0x7F) | 0x80, at: 0)
            rest >>= 7
        }
        return bytes
    }

    private static func bigEndian(_ value: Int, bytes: Int) -> [UInt8] {
        (0..<bytes).reversed().map { UInt8((value >> (8 * $0)) & 0xFF) }
    }
}
