import Foundation
import Testing

@testable import ConvCL

@Suite("Operators of the registry: elementwise table, data movement, MatMul, softmax, normalisations", .needsOpenCL)
struct OperatorTests {
    @Test("every registered operator matches the reference on random cases")
    func registry() throws {
        let seed = TestRandom().seed
        let backend = try openCLBackend()
        let results = try OperatorChecks.run(on: backend, seed: seed)
        let catalogue = Set(backend.programCatalogue)
        for program in backend.builtPrograms where ["elementwise", "copy"].contains(program.source) {
            #expect(catalogue.contains(program), "\(program) is not in the catalogue that `clconv prepare` builds")
        }
        #expect(results.count > 200)
        for result in results where !result.passed {
            Issue.record("\(result.label): error \(result.error) > \(result.tolerance); seed \(seed)")
        }
    }
}
