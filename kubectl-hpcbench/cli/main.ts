import { Command, CommanderError, Option } from 'commander';
import { RESULTS_LOG_ROLES } from '../../crds/results-configmap.js';
import { COMPARE_ERROR_EXIT_CODE, compareCommand } from './compare.js';
import { consoleCommand } from './console.js';
import { grafanaCommand } from './grafana.js';
import { CliError, type KubeOptions } from './kube.js';
import { logsCommand } from './logs.js';
import { reportCommand } from './report.js';
import { RESULTS_FORMATS, resultsCommand } from './results.js';

/**
 * `kubectl hpcbench`: results, reports, comparisons and logs of InferenceBenchmarks, read with the user's own
 * kubeconfig and RBAC from the apiserver only (never SSH). Help and exit codes in kubectl's manner: 0 done,
 * 1 an error (one line, no stack trace); `compare --fail-if-regressed` exits 1 on a regression and 2 on an
 * error, as `kubectl diff` does.
 */

const write = (text: string): void => {
  process.stdout.write(text);
};

function globalOptions(command: Command): KubeOptions {
  const o = command.optsWithGlobals<KubeOptions>();
  return {
    ...(o.kubeconfig ? { kubeconfig: o.kubeconfig } : {}),
    ...(o.context ? { context: o.context } : {}),
    ...(o.namespace ? { namespace: o.namespace } : {}),
  };
}

/** Ctrl-C ends a follow or a port-forward cleanly (exit 0), as kubectl's do. */
function interruptSignal(): AbortSignal {
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  process.once('SIGTERM', () => controller.abort());
  return controller.signal;
}

export function buildProgram(): Command {
  const program = new Command('kubectl hpcbench')
    .description(
      'Results, reports, comparisons and logs of InferenceBenchmarks (hpcbench.io), from the apiserver.',
    )
    .addOption(
      new Option(
        '--kubeconfig <file>',
        'Path to the kubeconfig file to use (default: $KUBECONFIG or ~/.kube/config).',
      ),
    )
    .addOption(new Option('--context <name>', 'The name of the kubeconfig context to use.'))
    .addOption(new Option('-n, --namespace <namespace>', 'If present, the namespace scope for this request.'))
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ outputError: (text, out) => out(text) })
    .exitOverride();

  program
    .command('results')
    .argument('<benchmark>', 'ib/NAME')
    .description(
      "Print a benchmark's results: the summary, or everything as JSON/YAML, or the per-request samples as CSV.",
    )
    .addOption(
      new Option(
        '-o, --output <format>',
        'Output format: json, yaml or csv (one line per sampled request).',
      ).choices(RESULTS_FORMATS),
    )
    .addHelpText(
      'after',
      '\nExamples:\n  kubectl hpcbench results ib/llama2-100c\n  kubectl hpcbench results ib/llama2-100c -o csv > samples.csv\n',
    )
    .action(async (target: string, options: { output?: string }, command: Command) => {
      await resultsCommand(target, { ...globalOptions(command), ...options }, write);
    });

  program
    .command('report')
    .argument('<benchmark>', 'ib/NAME')
    .description('Write one self-contained HTML report (SVG charts, no network at view time).')
    .option('-o, --output <file>', 'Where to write it ("-" for stdout). Default: NAME-report.html')
    .addHelpText('after', '\nExamples:\n  kubectl hpcbench report ib/llama2-100c -o report.html\n')
    .action(async (target: string, options: { output?: string }, command: Command) => {
      await reportCommand(target, { ...globalOptions(command), ...options }, write);
    });

  program
    .command('compare')
    .argument('<benchmarks...>', 'ib/A ib/B [ib/C ...]: the first is the baseline')
    .description(
      'Compare runs metric by metric against the first, with a significance verdict (Mann-Whitney U or Kruskal-Wallis on the per-request samples).',
    )
    .option(
      '--fail-if-regressed <pct>',
      'Exit 1 when a run is worse than the first by more than PCT percent (significant where tested).',
    )
    .option('--alpha <p>', 'Significance level.', '0.05')
    .addOption(new Option('-o, --output <format>', 'Output format: json.').choices(['json']))
    .addHelpText(
      'after',
      '\nExamples:\n  kubectl hpcbench compare ib/baseline ib/candidate --fail-if-regressed 5\n',
    )
    .action(
      async (
        targets: string[],
        options: { output?: string; failIfRegressed?: string; alpha?: string },
        command: Command,
      ) => {
        try {
          process.exitCode = await compareCommand(targets, { ...globalOptions(command), ...options }, write);
        } catch (error) {
          if (error instanceof CliError && options.failIfRegressed !== undefined)
            throw new CliError(error.message, COMPARE_ERROR_EXIT_CODE);
          throw error;
        }
      },
    );

  program
    .command('logs')
    .argument('<benchmark>', 'ib/NAME')
    .description(
      "Print the tail (64 KiB) of a job's log, kept in the results ConfigMap: no SSH needed, also after the jobs ended.",
    )
    .addOption(
      new Option(
        '--role <role>',
        "Which job: server, client, or monitoring (the cluster's shared Prometheus/Pushgateway/Grafana job).",
      )
        .choices([...RESULTS_LOG_ROLES])
        .default('server'),
    )
    .option(
      '-f, --follow',
      'Follow while the run goes (the operator refreshes the tails at most every 10 s).',
      false,
    )
    .addHelpText(
      'after',
      '\nExamples:\n  kubectl hpcbench logs ib/llama2-100c --role server\n  kubectl hpcbench logs ib/llama2-100c -f\n',
    )
    .action(async (target: string, options: { role?: string; follow?: boolean }, command: Command) => {
      await logsCommand(target, { ...globalOptions(command), ...options }, write, interruptSignal());
    });

  program
    .command('grafana')
    .description("Port-forward the chart's Grafana Service to 127.0.0.1 and print its URL (until Ctrl-C).")
    .option('--port <port>', 'Local port (0 picks a free one).', '3000')
    .option('--service <name>', 'The Grafana Service, when the chart is not found by its labels.')
    .addHelpText('after', '\nExamples:\n  kubectl hpcbench grafana -n inference-benchmark-operator\n')
    .action(async (options: { port?: string; service?: string }, command: Command) => {
      await grafanaCommand({ ...globalOptions(command), ...options }, write, interruptSignal());
    });

  program
    .command('console')
    .description(
      'A web console on 127.0.0.1 as your kubeconfig user: live list, new-benchmark wizard (server-side dry run), detail with report and logs, compare, Grafana. Runs until Ctrl-C.',
    )
    .option('--port <port>', 'Local port (0 picks a free one).', '8765')
    .option(
      '--grafana-namespace <namespace>',
      "Where the Helm chart is installed: the console's Grafana link port-forwards its tunnel Service.",
    )
    .addHelpText(
      'after',
      '\nExamples:\n  kubectl hpcbench console -n benchmarks\n  kubectl hpcbench console --grafana-namespace inference-benchmark-operator\n',
    )
    .action(async (options: { port?: string; grafanaNamespace?: string }, command: Command) => {
      await consoleCommand({ ...globalOptions(command), ...options }, write, interruptSignal());
    });

  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 1;
    if (error instanceof CliError) {
      process.stderr.write(`${error.message}\n`);
      return error.exitCode;
    }
    // Anything else is a bug of ours: still one line, and a way to see more.
    process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    if (process.env.HPCBENCH_DEBUG) console.error(error);
    return 1;
  }
}

// Run when executed (the bundle, or tsx), not when a test imports buildProgram.
const entry = process.argv[1] ?? '';
if (/kubectl-hpcbench(\.mjs)?$|cli[/\\]main\.ts$/.test(entry)) {
  main(process.argv).then((code) => {
    process.exitCode = code;
  });
}
