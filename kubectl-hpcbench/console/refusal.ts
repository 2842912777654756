/**
 * An apiserver refusal as the console passes it on: status code, reason, message and the causes naming each
 * bad field (`spec.workload.clients: Invalid value ...`). The server sends it (kube-api.ts) and the page reads
 * it (web/api.ts): one shape, no imports, so the browser build can share it.
 */
export interface ApiRefusal {
  status: number;
  reason: string;
  message: string;
  causes: { field?: string; message?: string }[];
}
