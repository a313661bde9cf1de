import { z } from 'zod';
import { UserError } from '../core/index.js';
import type { Connector, ConnectorCapabilities } from './connector.js';
import { secretFieldsOf } from './secret-fields.js';

/** What `GET /api/connectors` shows of a connector: enough for a form and for activations. */
export interface ConnectorInfo {
  id: string;
  label: string;
  secretFields: string[];
  configSchema: Record<string, unknown>;
}

/** The connectors this build knows, by id. */
export class ConnectorRegistry {
  private readonly byId = new Map<string, Connector>();

  constructor(connectors: readonly Connector[]) {
    for (const c of connectors) {
      if (this.byId.has(c.id)) throw new Error(`two connectors have the id ${c.id}`);
      this.byId.set(c.id, c);
    }
  }

  get(id: string): Connector {
    const connector = this.byId.get(id);
    if (connector) return connector;
    throw new UserError('unknown_connector', `unknown connector ${JSON.stringify(id)}`, [
      {
        code: 'unknown_connector',
        path: ['connector'],
        message: `must be one of: ${[...this.byId.keys()].join(', ')}`,
      },
    ]);
  }

  list(): ConnectorInfo[] {
    return [...this.byId.values()].map((c) => ({
      id: c.id,
      label: c.label,
      secretFields: secretFieldsOf(c.configSchema),
      configSchema: z.toJSONSchema(c.configSchema, { io: 'input', unrepresentable: 'any' }) as Record<
        string,
        unknown
      >,
    }));
  }

  /** The capabilities a destination's connector has with its config. */
  capabilities(id: string, config: unknown): ConnectorCapabilities {
    return this.get(id).capabilities(config);
  }
}
