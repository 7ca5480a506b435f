/**
 * The Router seam of the key manager (host/km/routing.ts once the key manager split lands),
 * restated here so that the interworking layer can be written and tested against it now. The
 * shapes are the agreed ones; when the key manager exports them, this file becomes a re-export.
 */
export interface RelayRouteRequest {
  readonly relayId: string;
  readonly from: string;
  readonly to: string;
  /** Link units the relay needs on every hop. */
  readonly units: number;
  /** Epoch ms by which the relay must complete. */
  readonly deadline: number;
  /** 0 = default; higher first. */
  readonly priority: number;
  /** 0 first try, then 1, 2 ... on reroute. */
  readonly attempt: number;
  /** Links that failed for this relay. */
  readonly avoidLinks: readonly string[];
}

export interface RelayRoute {
  readonly nodes: readonly string[];
  readonly links: readonly string[];
  readonly version: number;
}

export interface Router {
  route(req: RelayRouteRequest): Promise<RelayRoute>;
}
