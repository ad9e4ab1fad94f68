import type { ManifestEntry } from './manifest.js';

/** IPTC's Digital Source Type for media made by a trained model from a prompt. */
export const TRAINED_ALGORITHMIC_MEDIA = 'http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia';
/** The PNG text keyword under which XMP lives (the XMP specification, part 3). */
export const PNG_XMP_KEYWORD = 'XML:com.adobe.xmp';
/** The namespace of the generation details; a URN, since the project owns no domain for it. */
export const PROVENANCE_NAMESPACE = 'urn:astro-comfyui:xmp:1.0/';

const MODEL_FILE = /\.(safetensors|ckpt|pt|pth|bin|gguf|sft)$/i;

/**
 * The XMP packet that says how a generated image was made: IPTC's Digital Source Type (what readers and
 * search engines look for), the tool and date, and the prompt, negative, seed, model files, ComfyUI
 * version and workflow. Built from the image's manifest entry, so every derivative of the file can carry
 * the same packet. Placeholders are not generated media and get none (undefined).
 */
export function provenanceXmp(key: string, entry: ManifestEntry): string | undefined {
  if (entry.placeholder) return undefined;
  const files = [...new Set(modelFiles(entry.model))];
  const tool = `astro-comfyui with ComfyUI${entry.comfyuiVersion ? ` ${entry.comfyuiVersion}` : ''}`;
  const properties = [
    `<Iptc4xmpExt:DigitalSourceType>${TRAINED_ALGORITHMIC_MEDIA}</Iptc4xmpExt:DigitalSourceType>`,
    `<xmp:CreatorTool>${escapeXml(tool)}</xmp:CreatorTool>`,
    `<xmp:CreateDate>${escapeXml(entry.created)}</xmp:CreateDate>`,
    `<acui:Prompt>${escapeXml(entry.prompt)}</acui:Prompt>`,
    `<acui:NegativePrompt>${escapeXml(entry.negative)}</acui:NegativePrompt>`,
    `<acui:Seed>${entry.seed}</acui:Seed>`,
    `<acui:ModelFiles><rdf:Bag>${files.map((f) => `<rdf:li>${escapeXml(f)}</rdf:li>`).join('')}</rdf:Bag></acui:ModelFiles>`,
    `<acui:ComfyUIVersion>${escapeXml(entry.comfyuiVersion ?? 'unknown')}</acui:ComfyUIVersion>`,
    `<acui:Workflow>${escapeXml(entry.workflow)}</acui:Workflow>`,
    // sha256 of everything that determines the pixels: final prompt, size, model, sampler, seed, graph.
    `<acui:ImageKey>${escapeXml(key)}</acui:ImageKey>`,
  ];
  return [
    '<?xpacket begin="\uFEFF" id="W5M0MpCehiHzreSzNTczkc9d"?>',
    '<x:xmpmeta xmlns:x="adobe:ns:meta/">',
    '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">',
    `<rdf:Description rdf:about="" xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/" xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:acui="${PROVENANCE_NAMESPACE}">`,
    ...properties,
    '</rdf:Description>',
    '</rdf:RDF>',
    '</x:xmpmeta>',
    '<?xpacket end="r"?>',
  ].join('');
}

/** Model file names anywhere in the recorded model settings (checkpoint, text encoders, workflow files). */
function modelFiles(value: unknown): string[] {
  if (typeof value === 'string') return MODEL_FILE.test(value) ? [value] : [];
  if (Array.isArray(value)) return value.flatMap(modelFiles);
  if (value && typeof value === 'object') return Object.values(value).flatMap(modelFiles);
  return [];
}

function escapeXml(text: string): string {
  return (
    text
      // biome-ignore lint/suspicious/noControlCharactersInRegex: XML 1.0 allows no control characters but tab and newlines; they are dropped.
      .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '')
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
  );
}
