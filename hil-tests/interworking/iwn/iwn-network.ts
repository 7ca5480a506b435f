/** The IWN network builder lives in host/node/iwn-network.ts (`npm start -- --model iwn` starts it too). */
export * from '../../../host/node/iwn-network.js';
