/**
 * The fibre-link model of Lim et al. (PRA 89, 022307, 2014, Sec. IV) for expected detection and
 * error rates per intensity: transmittance η_ch = 10^(-α L / 10), η_sys = η_ch η_Bob,
 * D_k = 1 - (1 - 2 p_dc) e^{-η_sys μ_k}, R_k = D_k (1 + p_ap),
 * e_k = p_dc + e_mis (1 - e^{-η_sys μ_k}) + p_ap D_k / 2 (QBER_k = e_k / R_k).
 * (The paper prints η_ch inside e_k; η_sys, the light that reaches the detectors, is what the
 * misalignment term acts on, and what we use.) Used by the demo's simulated link and by tests.
 */
export interface FiberLink {
  readonly lengthKm: number;
  readonly attenuationDbPerKm: number;
  /** Receiver efficiency η_Bob (detector and optics). */
  readonly detectorEfficiency: number;
  /** Dark-count probability per gate and detector pair. */
  readonly darkCountProbability: number;
  readonly afterpulseProbability: number;
  /** Optical error probability e_mis. */
  readonly misalignment: number;
}

/** The paper's parameters: InGaAs APDs at 10 %, p_dc = 6e-7, p_ap = 4e-2, e_mis = 0.5 %, 0.2 dB/km. */
export function limLink(lengthKm: number): FiberLink {
  return { lengthKm, attenuationDbPerKm: 0.2, detectorEfficiency: 0.1, darkCountProbability: 6e-7, afterpulseProbability: 4e-2, misalignment: 5e-3 };
}

export interface ExpectedRates {
  /** Probability of a detection per pulse of intensity μ (R_k). */
  readonly detection: number;
  /** Probability of an erroneous detection per pulse (e_k). */
  readonly error: number;
  /** e_k / R_k. */
  readonly qber: number;
}

export function expectedRates(link: FiberLink, mu: number): ExpectedRates {
  const etaSys = 10 ** ((-link.attenuationDbPerKm * link.lengthKm) / 10) * link.detectorEfficiency;
  const d = 1 - (1 - 2 * link.darkCountProbability) * Math.exp(-etaSys * mu);
  const detection = d * (1 + link.afterpulseProbability);
  const error = link.darkCountProbability + link.misalignment * (1 - Math.exp(-etaSys * mu)) + (link.afterpulseProbability * d) / 2;
  return { detection, error, qber: error / detection };
}
