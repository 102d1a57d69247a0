import Foundation

/// Basic Pitch's outputs for a whole recording, the windows' overlaps trimmed and stitched: per
/// frame (86.13 per second), a note and an onset likelihood per piano key (88, from MIDI 21, A0)
/// and, when kept, a pitch contour at a third of a semitone (264 bins from 27.5 Hz).
public struct Posteriorgram: Sendable {
    /// Piano keys per frame.
    public static let keyCount = 88
    /// Contour bins per frame.
    public static let contourBinCount = 264
    /// MIDI number of the first key.
    public static let lowestMIDIPitch = 21

    /// Frames in the recording.
    public let frameCount: Int
    /// Note likelihoods, `frameCount` × 88, row-major.
    public internal(set) var note: [Float]
    /// Onset likelihoods, `frameCount` × 88, row-major.
    public internal(set) var onset: [Float]
    /// Contour likelihoods, `frameCount` × 264, row-major; empty when not kept.
    public internal(set) var contour: [Float]

    /// The time of frame `frame`, in seconds from the recording's start.
    ///
    /// Each window contributes its frames 15 to 156 (the overlap trimmed at both ends); the windows
    /// start 36164 samples apart while 142 frames span 36352, so the stitched frames are not evenly
    /// spaced: frame `r` of window `w` lies at sample `36164 w + 256 r` of the recording. (Basic
    /// Pitch's Python package approximates this with an offset per 172 frames and a constant; the
    /// two agree within 10 ms.)
    public static func time(ofFrame frame: Int) -> Double {
        let window = frame / Transcriber.framesPerWindow, row = frame % Transcriber.framesPerWindow
        return Double(window * Transcriber.windowHop + row * Transcriber.frameHop) / Double(Transcriber.sampleRate)
    }
}
