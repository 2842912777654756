import { randomBytes } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { type Clock, systemClock } from './clock.js';
import { mergePatchOptions } from './merge-patch.js';
import { keyToString } from './reconciler.js';

/**
 * Records core/v1 Events about objects, de-duplicated like client-go's EventCorrelator: the same
 * (object, type, reason, message) raises `count` and `lastTimestamp` of the existing Event instead of
 * creating a new one. Recording is best effort: it logs and never throws, so a failed Event never fails
 * a reconcile. Callers must keep secrets out of messages; messages are capped in length.
 */
export type EventType = 'Normal' | 'Warning';

export interface EventTarget {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; uid?: string; resourceVersion?: string };
}

const MAX_MESSAGE_LENGTH = 1024;
const MAX_REMEMBERED = 4096;

interface Remembered {
  eventName: string;
  namespace: string;
  count: number;
}

export class EventRecorder {
  private readonly api: k8s.CoreV1Api;
  private readonly clock: Clock;
  private readonly remembered = new Map<string, Remembered>();

  constructor(
    kubeConfig: k8s.KubeConfig,
    private readonly component: string,
    private readonly logger: Logger,
    private readonly options: { clock?: Clock; instance?: string } = {},
  ) {
    this.api = kubeConfig.makeApiClient(k8s.CoreV1Api);
    this.clock = options.clock ?? systemClock;
  }

  async record(object: EventTarget, type: EventType, reason: string, message: string): Promise<void> {
    const namespace = object.metadata?.namespace ?? 'default';
    const objectName = object.metadata?.name ?? '';
    const objectKey = keyToString({ namespace, name: objectName });
    const text =
      message.length > MAX_MESSAGE_LENGTH ? `${message.slice(0, MAX_MESSAGE_LENGTH - 3)}...` : message;
    const dedupeKey = [object.metadata?.uid ?? objectKey, type, reason, text].join('\u0000');
    const now = new Date(this.clock.now());
    try {
      const previous = this.remembered.get(dedupeKey);
      if (previous) {
        try {
          await this.api.patchNamespacedEvent(
            {
              name: previous.eventName,
              namespace: previous.namespace,
              body: { count: previous.count + 1, lastTimestamp: now.toISOString() },
            },
            mergePatchOptions(),
          );
          previous.count++;
          this.touch(dedupeKey, previous);
          return;
        } catch (error) {
          // The Event may have expired (the apiserver's event TTL); fall through and create a new one.
          if ((error as { code?: unknown }).code !== 404) throw error;
          this.remembered.delete(dedupeKey);
        }
      }
      const eventName = `${objectName}.${now.getTime().toString(16)}${randomBytes(3).toString('hex')}`;
      await this.api.createNamespacedEvent({
        namespace,
        body: {
          metadata: { name: eventName, namespace },
          involvedObject: {
            apiVersion: object.apiVersion,
            kind: object.kind,
            name: objectName,
            namespace,
            uid: object.metadata?.uid,
            resourceVersion: object.metadata?.resourceVersion,
          },
          type,
          reason,
          message: text,
          count: 1,
          firstTimestamp: now,
          lastTimestamp: now,
          source: { component: this.component },
          reportingComponent: this.component,
          reportingInstance: this.options.instance ?? '',
        },
      });
      this.touch(dedupeKey, { eventName, namespace, count: 1 });
    } catch (error) {
      this.logger.warn(
        {
          reason,
          object: objectKey,
          err: error instanceof Error ? error.message : String(error),
        },
        'could not record an Event',
      );
    }
  }

  /** Re-inserts to keep Map order as recency, and forgets the oldest beyond the cap. */
  private touch(key: string, value: Remembered): void {
    this.remembered.delete(key);
    this.remembered.set(key, value);
    while (this.remembered.size > MAX_REMEMBERED) {
      const oldest = this.remembered.keys().next().value;
      if (oldest === undefined) break;
      this.remembered.delete(oldest);
    }
  }
}
