import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeComfyUI, type FakeComfyUI } from '../../../test/fake-comfyui/fake-comfyui.js';
import { readPngInfo } from '../../../test/fake-comfyui/encode-png.js';
import {
  applyWorkflowBindings,
  assertWorkflowRequirements,
  describeMissingRequirements,
  findMissingRequirements,
  buildSd35Workflow,
  createComfyUIClient,
  loadWorkflowTemplate,
  parseWorkflowTemplate,
  type ComfyUIClient,
  type ObjectInfo,
} from '../src/index.js';
import { describeValidationError } from '../src/describe-validation-error.js';

let fake: FakeComfyUI;
let client: ComfyUIClient;
beforeAll(async () => {
  fake = await startFakeComfyUI();
  client = createComfyUIClient({ url: fake.url, pollIntervalMs: 25 });
});
afterAll(async () => {
  await client.close();
  await fake.close();
});

const base = { prompt: 'a lighthouse at dusk', width: 64, height: 48, seed: 7 };

describe('buildSd35Workflow', () => {
  it.each([
    ['large', 28, 4.5],
    ['large-turbo', 4, 1],
    ['medium', 40, 4.5],
  ] as const)('builds a %s graph that ComfyUI accepts and runs', async (model, steps, cfg) => {
    const { workflow, settings } = buildSd35Workflow({ ...base, model });
    expect(settings).toMatchObject({ steps, cfg, sampler: 'euler', scheduler: 'sgm_uniform', shift: 3 });
    const result = await client.runPrompt(workflow);
    const png = readPngInfo(result.images[0]!.data);
    expect([png.width, png.height]).toEqual([64, 48]);
    expect(JSON.parse(png.text.prompt!)['8'].inputs.steps).toBe(steps);
  });

  it('zeroes the negative for Turbo without encoding one (at cfg 1), and encodes it for Large', () => {
    const turbo = buildSd35Workflow({ ...base, model: 'large-turbo', negative: 'blurry' }).workflow;
    expect(turbo['5']).toEqual({ class_type: 'ConditioningZeroOut', inputs: { conditioning: ['3', 0] } });
    expect(turbo['8']!.inputs.negative).toEqual(['5', 0]);
    // No second CLIPTextEncode: the T5-XXL pass for a negative that cfg 1 never uses is gone.
    expect(Object.values(turbo).filter((n) => n.class_type === 'CLIPTextEncode')).toHaveLength(1);
    // At another cfg the negative is used, so it is still encoded (and zeroed), as before.
    const turboCfg2 = buildSd35Workflow({ ...base, model: 'large-turbo', cfg: 2 }).workflow;
    expect(turboCfg2['5']!.inputs.conditioning).toEqual(['4', 0]);

    const large = buildSd35Workflow({ ...base, model: 'large', negative: 'blurry' }).workflow;
    expect(large['5']).toBeUndefined();
    expect(large['8']!.inputs.negative).toEqual(['4', 0]);
    expect(large['4']!.inputs.text).toBe('blurry');
  });

  it('loads text encoders with the loader that fits their number, or uses the embedded ones', async () => {
    const loaders = [
      [['t5xxl_fp8_e4m3fn.safetensors'], 'CLIPLoader'],
      [['clip_l.safetensors', 'clip_g.safetensors'], 'DualCLIPLoader'],
      [['clip_l.safetensors', 'clip_g.safetensors', 't5xxl_fp16.safetensors'], 'TripleCLIPLoader'],
    ] as const;
    for (const [files, loader] of loaders) {
      const { workflow } = buildSd35Workflow({ ...base, textEncoders: [...files] });
      expect(workflow['2']!.class_type).toBe(loader);
      expect(workflow['3']!.inputs.clip).toEqual(['2', 0]);
      expect((await client.runPrompt(workflow)).images).toHaveLength(1);
    }
    const embedded = buildSd35Workflow({ ...base, textEncoders: 'embedded', checkpoint: 'sd3.5_large_fp8_scaled.safetensors' }).workflow;
    expect(embedded['2']).toBeUndefined();
    expect(embedded['3']!.inputs.clip).toEqual(['1', 1]);
    expect((await client.runPrompt(embedded)).images).toHaveLength(1);

    // "embedded" with a checkpoint that has no encoders fails the way real ComfyUI does.
    const wrong = buildSd35Workflow({ ...base, textEncoders: 'embedded', model: 'large' }).workflow;
    await expect(client.runPrompt(wrong)).rejects.toThrow(/clip input is invalid: None/);
  });

  it('refuses out-of-range settings with a message that says what fits', () => {
    expect(() => buildSd35Workflow({ ...base, width: 1000 })).toThrow(/width must be .* multiple of 16.*got 1000/);
    expect(() => buildSd35Workflow({ ...base, height: 0 })).toThrow(/height/);
    expect(() => buildSd35Workflow({ ...base, seed: -1 })).toThrow(/seed must be a whole number from 0/);
    expect(() => buildSd35Workflow({ ...base, steps: 1.5 })).toThrow(/steps/);
    expect(() => buildSd35Workflow({ ...base, prompt: '  ' })).toThrow(/prompt is empty/);
    expect(() => buildSd35Workflow({ ...base, textEncoders: [] })).toThrow(/textEncoders/);
    expect(() => buildSd35Workflow({ ...base, model: 'xl' as never })).toThrow(/Unknown SD3.5 model "xl"/);
    expect(() => buildSd35Workflow({ ...base, model: 'constructor' as never })).toThrow(/Unknown SD3.5 model "constructor"/);
  });

  it('gives the same JSON for the same settings', () => {
    expect(JSON.stringify(buildSd35Workflow(base).workflow)).toBe(JSON.stringify(buildSd35Workflow({ ...base }).workflow));
  });
});

describe('user workflows with bindings', () => {
  const apiWorkflow = () => buildSd35Workflow({ ...base, model: 'large' }).workflow;

  it('applies bound values and runs', async () => {
    const template = parseWorkflowTemplate(
      JSON.stringify(apiWorkflow()),
      {
        prompt: '3.inputs.text',
        seed: '8.inputs.seed',
        width: '6.inputs.width',
        height: ['6.inputs.height'],
      },
      'my-flow.json',
    );
    const workflow = applyWorkflowBindings(template, { prompt: 'a red fox', seed: 42, width: 96, height: 32 });
    expect(workflow['3']!.inputs.text).toBe('a red fox');
    expect(template.workflow['3']!.inputs.text).toBe('a lighthouse at dusk');
    const png = readPngInfo((await client.runPrompt(workflow)).images[0]!.data);
    expect([png.width, png.height]).toEqual([96, 32]);
  });

  it('names the file and the problem for bad workflows and bindings', async () => {
    expect(() => parseWorkflowTemplate('{ nope', { prompt: '3.inputs.text' }, 'flow.json')).toThrow(/flow\.json is not valid JSON/);
    expect(() => parseWorkflowTemplate({ nodes: [], links: [] }, { prompt: '3.inputs.text' }, 'ui.json')).toThrow(/UI-format workflow.*Save \(API Format\)/);
    expect(() => parseWorkflowTemplate(apiWorkflow(), { colour: '3.inputs.text' }, 'f.json')).toThrow(/unknown binding "colour"/);
    expect(() => parseWorkflowTemplate(apiWorkflow(), { prompt: '99.inputs.text' }, 'f.json')).toThrow(/node "99", which is not in the workflow/);
    // What every object inherits is not a node or an input of the workflow.
    expect(() => parseWorkflowTemplate(apiWorkflow(), { prompt: 'constructor.inputs.text' }, 'f.json')).toThrow(
      /node "constructor", which is not in the workflow/,
    );
    expect(() => parseWorkflowTemplate(apiWorkflow(), { prompt: '3.inputs.toString' }, 'f.json')).toThrow(/input "toString" of node 3/);
    expect(() => parseWorkflowTemplate(apiWorkflow(), { prompt: '3.inputs.txt' }, 'f.json')).toThrow(
      /input "txt" of node 3 \(CLIPTextEncode\), which has: text, clip/,
    );
    expect(() => parseWorkflowTemplate(apiWorkflow(), { prompt: '3.text' }, 'f.json')).toThrow(/<nodeId>\.inputs\.<inputName>/);
    expect(() => parseWorkflowTemplate(apiWorkflow(), { seed: '8.inputs.seed' }, 'f.json')).toThrow(/"prompt" binding is required/);
    const saveNode = Object.entries(apiWorkflow()).find(([, node]) => node.class_type === 'SaveImage')!;
    const twoSaves = { ...apiWorkflow(), 99: { class_type: 'SaveImage', inputs: { ...saveNode[1].inputs } } };
    expect(() => parseWorkflowTemplate(twoSaves, { prompt: '3.inputs.text' }, 'hires.json')).toThrow(
      `hires.json has 2 SaveImage nodes (${saveNode[0]}, 99); keep one, the image the post shows, and turn the others into PreviewImage nodes.`,
    );
    const noSave = Object.fromEntries(Object.entries(apiWorkflow()).filter(([, node]) => node.class_type !== 'SaveImage'));
    expect(() => parseWorkflowTemplate(noSave, { prompt: '3.inputs.text' }, 'f.json')).toThrow(/f\.json has no SaveImage node/);

    const dir = await mkdtemp(path.join(tmpdir(), 'workflow-'));
    try {
      const file = path.join(dir, 'flow.json');
      await writeFile(file, JSON.stringify(apiWorkflow()));
      expect((await loadWorkflowTemplate(file, { prompt: '3.inputs.text' })).source).toBe(file);
      await expect(loadWorkflowTemplate(path.join(dir, 'missing.json'), { prompt: '3.inputs.text' })).rejects.toThrow(
        /Cannot read the workflow file .*missing\.json/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('preflight against /object_info', () => {
  it('a malformed node description from a broken server checks nothing and throws nothing; a null one is a missing node', () => {
    const workflow = buildSd35Workflow(base).workflow;
    const info = Object.fromEntries(Object.values(workflow).map((node) => [node.class_type, {}])) as unknown as ObjectInfo;
    expect(findMissingRequirements(workflow, info)).toEqual({ nodeTypes: [], modelFiles: [], values: [] });
    const broken = { ...info, KSampler: null } as unknown as ObjectInfo;
    expect(findMissingRequirements(workflow, broken).nodeTypes.map((m) => m.classType)).toEqual(['KSampler']);
  });

  it('finds a file in a subfolder written with either separator, as ComfyUI on Windows or Linux lists it, but not one that two files could be', async () => {
    const windows = await startFakeComfyUI({ models: { checkpoints: ['sd3.5\\sd3.5_large.safetensors', 'sd3.5_medium.safetensors'] } });
    const c = createComfyUIClient({ url: windows.url });
    try {
      const info = await c.getObjectInfo();
      const missing = (checkpoint: string) => findMissingRequirements(buildSd35Workflow({ ...base, model: 'large', checkpoint }).workflow, info).modelFiles;
      expect(missing('sd3.5/sd3.5_large.safetensors')).toEqual([]);
      expect(missing('sd3.5\\sd3.5_large.safetensors')).toEqual([]);
      expect(missing('sd3.5_large.safetensors').map((m) => m.file)).toEqual(['sd3.5_large.safetensors']);
      expect(missing('other/sd3.5_large.safetensors').map((m) => m.file)).toEqual(['other/sd3.5_large.safetensors']);
    } finally {
      await c.close();
      await windows.close();
    }
    // Two files that read the same once separators are alike: neither is guessed.
    const both = { CheckpointLoaderSimple: { input: { required: { ckpt_name: [['a/b\\x.safetensors', 'a\\b/x.safetensors']] } } } } as unknown as ObjectInfo;
    const workflow = { '1': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'a/b/x.safetensors' } } };
    expect(findMissingRequirements(workflow, both).modelFiles.map((m) => m.file)).toEqual(['a/b/x.safetensors']);
    workflow['1'].inputs.ckpt_name = 'a\\b/x.safetensors';
    expect(findMissingRequirements(workflow, both).modelFiles).toEqual([]);
  });

  it('lists every missing node type and model file with its folder, in both combo formats', async () => {
    const workflow = buildSd35Workflow({
      ...base,
      model: 'large',
      checkpoint: 'sd3.5_large_v2.safetensors',
      textEncoders: ['clip_l.safetensors', 'clip_g.safetensors', 't5xxl_fp32.safetensors'],
    }).workflow;
    workflow['11'] = { class_type: 'UltimateSDUpscale', inputs: {} };
    workflow['12'] = { class_type: 'constructor', inputs: {} };
    for (const comboFormat of ['classic', 'v3'] as const) {
      const server = await startFakeComfyUI({ comboFormat });
      const c = createComfyUIClient({ url: server.url });
      try {
        const info = await c.getObjectInfo();
        const error = (() => {
          try {
            assertWorkflowRequirements(workflow, info, server.url);
          } catch (e) {
            return e as Error & { code: string };
          }
        })();
        expect(error?.code).toBe('MISSING_NODES_OR_MODELS');
        expect(error?.message).toContain('node type UltimateSDUpscale (node 11) is not available');
        expect(error?.message).toContain('node type constructor (node 12) is not available');
        expect(error?.message).toContain('sd3.5_large_v2.safetensors is missing: put it in ComfyUI/models/checkpoints/');
        expect(error?.message).toContain('t5xxl_fp32.safetensors is missing: put it in ComfyUI/models/text_encoders/');
        expect(error?.message).not.toContain('clip_l.safetensors is missing');
        expect(() => assertWorkflowRequirements(buildSd35Workflow(base).workflow, info, server.url)).not.toThrow();
      } finally {
        await c.close();
        await server.close();
      }
    }
  });

  it("names the folder a loader reads, which an input's name alone does not say (CLIP vision, upscale models), and no folder for an API node's model", async () => {
    const workflow = {
      ...buildSd35Workflow(base).workflow,
      '20': { class_type: 'CLIPVisionLoader', inputs: { clip_name: 'clip_vision_g.safetensors' } },
      '21': { class_type: 'UpscaleModelLoader', inputs: { model_name: '4x-UltraSharp.pth' } },
      '22': { class_type: 'StyleModelLoader', inputs: { style_model_name: 'redux.safetensors' } },
      '23': { class_type: 'ModelPatchLoader', inputs: { name: 'patch.safetensors' } },
      '24': { class_type: 'KlingImageGenerationNode', inputs: { model_name: 'kling-v9' } },
    };
    const server = await startFakeComfyUI();
    const c = createComfyUIClient({ url: server.url });
    try {
      const missing = findMissingRequirements(workflow, await c.getObjectInfo());
      expect(missing.modelFiles.map((m) => `${m.file} in ${m.folder}`)).toEqual([
        'clip_vision_g.safetensors in clip_vision',
        '4x-UltraSharp.pth in upscale_models',
        'redux.safetensors in style_models',
        'patch.safetensors in model_patches',
      ]);
      expect(missing.values.map((m) => `${m.classType} ${m.input} ${String(m.value)}`)).toEqual(['KlingImageGenerationNode model_name kling-v9']);
      expect(describeMissingRequirements(missing)[0]).toBe(
        'clip_vision_g.safetensors is missing: put it in ComfyUI/models/clip_vision/ (used by CLIPVisionLoader clip_name).',
      );
    } finally {
      await c.close();
      await server.close();
    }
    // ComfyUI's own refusal of such a file (value_not_in_list, shaped as the recorded one) names the same folder.
    const refusal = {
      error: { type: 'prompt_outputs_failed_validation', message: 'Prompt outputs failed validation', details: '', extra_info: {} },
      node_errors: {
        '20': {
          errors: [
            {
              type: 'value_not_in_list',
              message: 'Value not in list',
              details: "clip_name: 'clip_vision_g.safetensors' not in []",
              extra_info: { input_name: 'clip_name', input_config: [[]], received_value: 'clip_vision_g.safetensors' },
            },
          ],
          dependent_outputs: ['10'],
          class_type: 'CLIPVisionLoader',
        },
      },
    };
    expect(describeValidationError('http://gpu:8188', workflow, refusal)).toContain(
      '"clip_vision_g.safetensors" is not installed. Put it in ComfyUI/models/clip_vision/',
    );
  });
});
