import { BenchmarkConditionType, ConditionReason } from '../../../../crds/index.js';
import { findCondition } from '../../../runtime/conditions.js';
import {
  halt,
  pendingWhileNothingSubmitted,
  type RunContext,
  type StepOutcome,
  WAITING_FOR_CLUSTER_MS,
} from '../context.js';

/** What switches monitoring off for this run (the spec, or its SlurmCluster), or undefined when it is on. */
export function monitoringSwitchedOffBy(ctx: RunContext): string | undefined {
  if (!ctx.spec.monitoring.enabled) return 'spec.monitoring.enabled';
  const cluster = ctx.services.clusters.get(ctx.namespace, ctx.spec.clusterRef.name);
  return (cluster?.spec?.monitoring?.enabled ?? true) ? undefined : 'the SlurmCluster';
}

/** MonitoringReady: the cluster's shared monitoring job answers, or monitoring is switched off (Disabled). */
export async function ensureMonitoringReady(ctx: RunContext): Promise<StepOutcome> {
  const type = BenchmarkConditionType.MonitoringReady;
  const cluster = ctx.services.clusters.get(ctx.namespace, ctx.spec.clusterRef.name);
  const by = monitoringSwitchedOffBy(ctx);
  if (by) {
    ctx.draft.set(type, 'True', ConditionReason.Disabled, `monitoring is switched off by ${by}`);
    return undefined;
  }
  const clusterCondition = findCondition(cluster?.status?.conditions, type);
  const monitoring = cluster?.status?.monitoring;
  if (clusterCondition?.status !== 'True' || !monitoring?.pushgateway) {
    const why = clusterCondition
      ? `${clusterCondition.reason}: ${clusterCondition.message}`
      : 'not reported yet';
    ctx.draft.set(
      type,
      'False',
      ConditionReason.WaitingForDependencies,
      `waiting for the monitoring stack of SlurmCluster ${ctx.spec.clusterRef.name} (${why})`,
    );
    ctx.draft.ready('False', ConditionReason.WaitingForDependencies, 'waiting for the monitoring stack');
    pendingWhileNothingSubmitted(ctx);
    return halt(WAITING_FOR_CLUSTER_MS);
  }
  ctx.draft.set(
    type,
    'True',
    ConditionReason.MonitoringAvailable,
    `Prometheus ${monitoring.prometheus ?? '?'} and Pushgateway ${monitoring.pushgateway} of job ${monitoring.jobId ?? '?'}`,
  );
  ctx.draft.status.endpoints = {
    ...ctx.draft.status.endpoints,
    ...(monitoring.prometheus ? { prometheus: monitoring.prometheus } : {}),
    pushgateway: monitoring.pushgateway,
    ...(monitoring.grafana ? { grafana: monitoring.grafana } : {}),
  };
  return undefined;
}
