import { report } from '../../api/report.js';
import type { Command } from '../command.js';
import { hostOf, serviceOptionsOf } from '../options.js';

export const reportCommand: Command = {
  name: 'report',
  summary: "write a deployment's timeline as one self-contained HTML page",
  spec: {
    words: ['artifact', 'environment', 'deployment'],
    required: ['artifact', 'environment'],
    flags: [],
    options: ['out'],
  },
  help: `Usage: cutover report artifact=NAME environment=NAME [deployment=ID] [--out FILE] [--json]

Writes one HTML file (inline SVG and CSS; no script, nothing fetched from the network, so it opens from
a CI artifact) with the deployment's timeline from this runner's journal: each fleet's share of traffic
over time, every check's readings and the requests it counted, the phases it went through, who
promoted, paused or aborted it, and what failed. The numbers are also in data- attributes. On aws, a
deploy this runner has no journal of is drawn from what AWS holds (who, which AMI, when, its role now);
on hosts, from the load balancer host's log of launches (who, which version, when, its role now).
Prints the file's path.

  deployment=ID   the deployment to draw (default: the newest; cutover history lists them)
  --out FILE      where to write it (default: cutover-report-<deployment>.html in the current folder)`,

  async run(args, io) {
    const service = serviceOptionsOf(args);
    const result = await report({
      ...service,
      ...hostOf(io),
      deployment: args.words.deployment,
      out: args.options.out,
    });
    if (result.type === 'report' && !io.json) io.out(result.path);
    return { result, service };
  },
};
