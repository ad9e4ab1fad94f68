import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestGraph } from '../helpers/sd35-graph.js';
import { startFakeComfyUI, type FakeComfyUI } from './fake-comfyui.js';

let fake: FakeComfyUI;
beforeAll(async () => {
  fake = await startFakeComfyUI();
});
afterAll(() => fake.close());

async function submit(prompt: unknown) {
  const res = await fetch(`${fake.url}/prompt`, { method: 'POST', body: JSON.stringify({ prompt, client_id: 'v' }) });
  return { status: res.status, body: (await res.json()) as any };
}

describe('fake ComfyUI validation', () => {
  it('rejects an unknown class_type with invalid_prompt', async () => {
    const graph = { ...buildTestGraph(), '10': { class_type: 'SomeCustomNodeNotInstalled', inputs: {} } };
    const { status, body } = await submit(graph);
    expect(status).toBe(400);
    expect(body.error).toEqual({
      type: 'invalid_prompt',
      message: 'Cannot execute because node SomeCustomNodeNotInstalled does not exist.',
      details: "Node ID '#10'",
      extra_info: {},
    });
  });

  it('rejects a node without class_type and a prompt without outputs', async () => {
    expect((await submit({ '1': { inputs: {} } })).body.error.message).toBe('Cannot execute because a node is missing the class_type property.');
    const noOutputs = await submit({ '1': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'sd3.5_large.safetensors' } } });
    expect(noOutputs.body.error.type).toBe('prompt_no_outputs');
  });

  it('names a checkpoint that is not installed, with the installed list', async () => {
    const { status, body } = await submit(buildTestGraph({ checkpoint: 'sd3.5_large_typo.safetensors' }));
    expect(status).toBe(400);
    expect(body.error.type).toBe('prompt_outputs_failed_validation');
    expect(body.node_errors['1']).toEqual({
      class_type: 'CheckpointLoaderSimple',
      dependent_outputs: ['9'],
      errors: [
        expect.objectContaining({
          type: 'value_not_in_list',
          message: 'Value not in list',
          details: expect.stringMatching(/^ckpt_name: 'sd3\.5_large_typo\.safetensors' not in \['sd3\.5_large\.safetensors', /),
        }),
      ],
    });
    // Downstream nodes are invalid too but ComfyUI does not list nodes without reasons.
    expect(Object.keys(body.node_errors)).toEqual(['1']);
    // The top-level details only list the output nodes' own reasons: the client must read node_errors.
    expect(body.error.details).toBe('');
  });

  it('reports out-of-range values and missing required inputs', async () => {
    const graph = buildTestGraph({ width: 8, steps: 0 });
    delete graph['7']!.inputs.cfg;
    const { body } = await submit(graph);
    expect(body.node_errors['5'].errors).toEqual([
      expect.objectContaining({ type: 'value_smaller_than_min', message: 'Value 8 smaller than min of 16', details: 'width' }),
    ]);
    expect(body.node_errors['7'].errors.map((e: any) => [e.type, e.details])).toEqual([
      ['value_smaller_than_min', 'steps'],
      ['required_input_missing', 'cfg'],
    ]);
    const tooBig = await submit(buildTestGraph({ width: 20000 }));
    expect(tooBig.body.node_errors['5'].errors[0].message).toBe('Value 20000 bigger than max of 16384');
  });

  it('reports a wrong output type and a link to a missing node', async () => {
    const mismatch = buildTestGraph();
    mismatch['3']!.inputs.clip = ['1', 0]; // MODEL into a CLIP input
    const { body } = await submit(mismatch);
    expect(body.node_errors['3'].errors[0]).toMatchObject({
      type: 'return_type_mismatch',
      details: 'clip, received_type(MODEL) mismatch input_type(CLIP)',
      extra_info: { received_type: 'MODEL', linked_node: ['1', 0] },
    });

    // Reported on the node whose link dangles, as seen from the node that links to it (recorded).
    const dangling = buildTestGraph();
    dangling['8']!.inputs.vae = ['42', 2];
    const result = await submit(dangling);
    expect(result.status).toBe(400);
    expect(result.body.error.details).toBe('');
    expect(result.body.node_errors['8']).toMatchObject({
      class_type: 'VAEDecode',
      dependent_outputs: ['9'],
      errors: [
        { type: 'exception_during_inner_validation', details: "'42'", extra_info: { input_name: 'images', linked_node: ['8', 0], exception_type: 'KeyError' } },
      ],
    });
    // An output node's own dangling link is an exception while validating that node.
    const outputDangling = buildTestGraph();
    outputDangling['9']!.inputs.images = ['42', 0];
    expect((await submit(outputDangling)).body.node_errors['9'].errors[0]).toMatchObject({ type: 'exception_during_validation', details: "'42'" });
  });

  it('rejects a value that cannot be converted', async () => {
    const graph = buildTestGraph();
    graph['7']!.inputs.seed = 'seven';
    const { body } = await submit(graph);
    expect(body.node_errors['7'].errors[0]).toMatchObject({
      type: 'invalid_input_type',
      message: 'Failed to convert an input value to a INT value',
    });
  });

  it('accepts a valid graph with a client-chosen prompt_id, and the same id twice', async () => {
    const before = fake.stats.promptsQueued;
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${fake.url}/prompt`, {
        method: 'POST',
        body: JSON.stringify({ prompt: buildTestGraph(), prompt_id: 'my-id', client_id: 'v' }),
      });
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ prompt_id: 'my-id', number: expect.any(Number), node_errors: {} });
    }
    // ComfyUI does not deduplicate prompt ids: both are queued.
    expect(fake.stats.promptsQueued - before).toBe(2);
  });
});
