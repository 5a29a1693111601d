// Public API of kafka-wire. Deep imports are not part of the contract.
export {}
