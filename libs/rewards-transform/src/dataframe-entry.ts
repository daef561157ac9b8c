// `@org/rewards-transform/dataframe`: danfojs-node interop, kept off the main entry so that code which does
// not explore frames (the Lambdas, the runner) never loads danfojs and TensorFlow.js.
export { tableToDataFrame, dataFrameToRawColumns } from './engine/dataframe';
