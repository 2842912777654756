import { defineConfig } from 'vitest/config';

// Two projects: fast unit tests beside the code, and integration tests under test/ that need the
// sandbox (real SLURM, sshd, kube-apiserver, Ollama). Integration files run one at a time: the
// machine has two cores and the sandbox is shared.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['{operator,crds,slurm-bridge,client-service,recipes,kubectl-hpcbench}/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          environment: 'node',
          fileParallelism: false,
          testTimeout: 180_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
