/** The SKR model of the link over distance (README.md). */
export { checkPhysics, channelTransmittance, detectorRates, expectedStatistics } from './physics.js';
export type { BasisStatistics, DetectorModel, ExpectedStatistics, FockYields, LinkPhysics, SourceModel } from './physics.js';
export { asymptoticBitsPerPulse, blockTagBits, linkBlock, plobBitsPerUse, predictBlock, predictSkr } from './skr.js';
export type { BlockPrediction, BlockSize, SkrOptions, SkrPrediction } from './skr.js';
export { blockSpread, type BlockSpread } from './spread.js';
export { linkOverheadBits, physicsFromProtocol, type LinkOverhead, type PhysicsOverrides } from './link-physics.js';
export { MEASURED_FORMAT_VERSION, MEASURED_POINTS_PATH, formatMeasuredPoints, parseMeasuredPoints, readMeasuredPoints, recordMeasuredPoints, type MeasuredPoint } from './measured.js';
export { MeasuredPointsError, ModelArgumentError, ModelError, type ModelErrorCode } from './errors.js';
