/**
 * The `wasm-cnn` command. Bad input (unknown flags, missing or corrupt files, a parameter
 * file for another architecture) prints one line `error: ...` and exits with code 2,
 * without touching any existing output.
 */
import { existsSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { WasmCnnError } from '../errors.js';
import { OPTIMIZER_NAMES } from '../train/optimizers.js';
import { CliError, EXIT_BAD_INPUT } from './errors.js';
import { nonNegativeInt, nonNegativeNumber, positiveInt, positiveNumber } from './parse.js';
import { MODEL_PRESETS } from './models.js';
import { trainCommand } from './train.js';
import { evalCommand, featureMapsCommand, filtersCommand, predictCommand } from './inspect.js';
import { EXPORT_FORMATS, exportCommand } from './export.js';

const backendOption = () => new Option('--backend <name>', 'wasm (SIMD WebAssembly) or js (plain JavaScript)')
  .choices(['wasm', 'js']).default('wasm');

function program(): Command {
  const cli = new Command('wasm-cnn')
    .description('Train and run convolutional neural networks on MNIST with SIMD WebAssembly kernels')
    .exitOverride();

  cli.command('train')
    .description('train a model on the bundled MNIST (default: the course\'s run, SimpleConvNet, Adam lr 0.001, batch 100, 20 epochs on 5,000/1,000 images)')
    .option('--full', 'use all 60,000 training and 10,000 test images')
    .option('--train-size <n>', 'training images (default 5,000, or 60,000 with --full)', positiveInt)
    .option('--test-size <n>', 'test images (default 1,000, or 10,000 with --full)', positiveInt)
    .option('--epochs <n>', 'passes over the training images', positiveInt, 20)
    .option('--batch <n>', 'mini-batch size', positiveInt, 100)
    .option('--lr <x>', 'learning rate (default: the optimizer\'s, 0.001 for adam)', positiveNumber)
    .option('--lr-decay <x>', 'multiply the learning rate by x after every epoch (default: 1, constant)', positiveNumber)
    .option('--weight-decay <lambda>', 'L2 weight decay of the weights, as the course\'s weight_decay_lambda (default: 0, none)', nonNegativeNumber)
    .addOption(new Option('--optimizer <name>', 'optimizer').choices(OPTIMIZER_NAMES).default('adam'))
    .addOption(new Option('--model <preset>', 'simple: the course\'s SimpleConvNet; deep: its DeepConvNet').choices(MODEL_PRESETS).default('simple'))
    .addOption(backendOption())
    .option('--threads <n>', 'threads for the kernels', positiveInt, 1)
    .option('--seed <n>', 'seed of the initial weights and the batch order', nonNegativeInt, 42)
    .option('--out <dir>', 'output folder (default: a new folder under runs/)')
    .option('--force', 'overwrite the files of an existing run in --out')
    .option('--checkpoint-every <n>', 'also write checkpoint.safetensors every N steps (it is written at every epoch end anyway)', positiveInt)
    .option('--resume <dir>', 'continue the run in DIR from its checkpoint, with the options it started with')
    .option('--quiet', 'no progress output')
    .option('--json', 'print the results as JSON on stdout')
    .action(async (opts, cmd: Command) => {
      // which options were typed: --resume refuses those that conflict with the run's
      const given = Object.keys(opts).filter((k) => cmd.getOptionValueSource(k) === 'cli');
      process.exitCode = await trainCommand({ ...opts, given });
    });

  cli.command('eval')
    .description('test accuracy and confusion matrix of a parameter file')
    .argument('<params>', 'a .safetensors file written by train, or an .onnx model')
    .option('--test-size <n>', 'test images (default all 10,000)', positiveInt)
    .option('--batch <n>', 'batch size', positiveInt, 100)
    .addOption(new Option('--layout <layout>', 'the file\'s tensor names: wasm-cnn\'s own, or a PyTorch state dict (with --model)').choices(['wasm-cnn', 'pytorch']).default('wasm-cnn'))
    .addOption(new Option('--model <preset>', 'with --layout pytorch: the preset the state dict is for').choices(MODEL_PRESETS))
    .addOption(backendOption())
    .option('--json', 'print the results as JSON on stdout')
    .action(async (params, opts) => { process.exitCode = await evalCommand(params, opts); });

  cli.command('predict')
    .description('predict the digit in a PNG (any size, converted like MNIST) or in a test image')
    .argument('<params>', 'a .safetensors file written by train, or an .onnx model')
    .argument('[image]', 'a PNG file')
    .option('--index <n>', 'use test image N instead of a PNG', nonNegativeInt)
    .addOption(backendOption())
    .option('--json', 'print the results as JSON on stdout')
    .action(async (params, image, opts) => { process.exitCode = await predictCommand(params, image, opts); });

  cli.command('export')
    .description('write a parameter file as an ONNX model (opset 13; input "input" (N, C, H, W) float32, output "logits" (N, classes)), or with --format pytorch as the state dict of the equivalent nn.Sequential (safetensors)')
    .argument('<params>', 'a .safetensors file written by train (or an .onnx model)')
    .requiredOption('--out <file>', 'output file, e.g. model.onnx')
    .addOption(new Option('--format <format>', 'exchange format').choices(EXPORT_FORMATS).default('onnx'))
    .option('--softmax', 'end with Softmax: output "probabilities" instead of "logits"')
    .option('--force', 'overwrite an existing output file')
    .addOption(backendOption())
    .option('--json', 'print what was written as JSON on stdout')
    .action(async (params, opts) => { process.exitCode = await exportCommand(params, opts); });

  cli.command('filters')
    .description('draw the first convolution\'s filters as a grid (like the course\'s filter_show)')
    .argument('<params>', 'a .safetensors file written by train')
    .option('--out <file>', 'output PNG', 'filters.png')
    .option('--force', 'overwrite an existing output file')
    .addOption(backendOption())
    .action(async (params, opts) => { process.exitCode = await filtersCommand(params, opts); });

  cli.command('feature-maps')
    .description('apply the first convolution to one test image and draw its feature maps')
    .argument('<params>', 'a .safetensors file written by train')
    .requiredOption('--index <n>', 'test image index', nonNegativeInt)
    .option('--out <file>', 'output PNG', 'feature-maps.png')
    .option('--force', 'overwrite an existing output file')
    .addOption(backendOption())
    .action(async (params, opts) => { process.exitCode = await featureMapsCommand(params, opts); });

  cli.command('bench')
    .description('benchmarks: kernels, end to end, TF.js peers, the Wasm SIMD peak (options as in npm run bench: --quick, --only GROUPS, --skip, --out DIR, --json; needs the dev dependencies)')
    .helpOption(false)
    .allowUnknownOption()
    .argument('[options...]', 'passed to the bench')
    .action(async (args: string[]) => {
      // the bench bundle sits next to this one (build/dist/bench.js) in a git checkout only: the
      // published package leaves it out, and it needs the dev dependencies (TF.js)
      const bench = new URL('./bench.js', import.meta.url);
      if (!existsSync(bench)) {
        throw new CliError('the bench is not part of the installed package: run it from a git checkout of wasm-cnn (npm ci && npm run bench)');
      }
      const { benchMain } = await import(bench.href) as { benchMain: (argv: string[]) => Promise<number> };
      process.exitCode = await benchMain(args);
    });

  return cli;
}

export async function run(argv: string[]): Promise<number> {
  try {
    await program().parseAsync(argv, { from: 'user' });
    return Number(process.exitCode ?? 0);
  } catch (e) {
    if (e instanceof CommanderError) {
      // commander has printed its message; --help and --version end with exit code 0
      return e.exitCode === 0 ? 0 : EXIT_BAD_INPUT;
    }
    if (e instanceof CliError || e instanceof WasmCnnError) {
      process.stderr.write(`error: ${e.message}\n`);
      return EXIT_BAD_INPUT;
    }
    throw e;
  }
}

process.exitCode = await run(process.argv.slice(2));
