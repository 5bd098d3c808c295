/**
 * The style encoder's weights manifest (`style/weights.json`, versions 1 and 2), described once as a valibot
 * schema; style-encoder.ts derives its types from it and adds what one field cannot say (tensor names and shapes
 * for the config, one int8 scale per tensor, the content hash over the bytes of weights.bin).
 */
import * as v from 'valibot';
import { countOf, finiteNumber, nonEmptyString, objectMessage, positiveInteger } from './issues.ts';

export const WEIGHTS_FORMAT = 'toonpick-style-encoder';
/** How `weights.bin` stores the values: float32 (4 bytes each), float16 (2) or int8 with a scale per tensor (1). */
export const WEIGHTS_DTYPES = ['float32', 'float16', 'int8'] as const;

/** The encoder's shape (its cross-field rules — size a multiple of 16, even pooling — are resolveConfig's). */
export const StyleEncoderConfigSchema = v.object(
  {
    /** Input side in pixels; a multiple of 16 (four halvings). */
    size: positiveInteger,
    /** Latent (style vector) dimension. */
    latent: positiveInteger,
    /** 'ae' (plain autoencoder) or 'vae' (variational). */
    variant: v.picklist(['ae', 'vae'], 'must be "ae" or "vae"'),
    /** Weight of KL(q(z|x) || N(0, I)) against the per-pixel reconstruction MSE (VAE only). */
    klWeight: v.pipe(finiteNumber, v.minValue(0, 'must be a finite number ≥ 0')),
    /** Channels of the four encoder layers (the decoder mirrors them). */
    filters: v.tuple([positiveInteger, positiveInteger, positiveInteger, positiveInteger], 'must be four positive integers'),
    /** Each Gram matrix is max-pooled to at most gramSize × gramSize. */
    gramSize: positiveInteger,
    /** Seed of the initial weights. */
    seed: finiteNumber,
  },
  objectMessage,
);

/**
 * `style/weights.json` + `style/weights.bin` (the values). Version 1 stores float32 and has no `dtype`; version 2
 * names its `dtype` (float16, or int8 with `scales`).
 */
export const StyleWeightsManifestSchema = v.object(
  {
    format: v.literal(WEIGHTS_FORMAT, (issue) => `format is ${JSON.stringify(issue.input)}, expected "${WEIGHTS_FORMAT}"`),
    version: v.picklist([1, 2] as const, (issue) => `version ${JSON.stringify(issue.input)} is not supported (expected 1 or 2)`),
    config: StyleEncoderConfigSchema,
    /** In storage order; each tensor's values follow the previous one's in the data. */
    tensors: v.array(v.object({ name: nonEmptyString, shape: v.array(countOf, 'must be an array of sizes') }, objectMessage), 'must be a list of tensors'),
    /** Version 2: how the values are stored. */
    dtype: v.optional(v.picklist(WEIGHTS_DTYPES, (issue) => `dtype is ${JSON.stringify(issue.input)}, expected float32, float16 or int8`)),
    /** int8 only: per tensor (in `tensors` order), value = code × scale (codes in −127…127). */
    scales: v.optional(v.array(v.pipe(finiteNumber, v.minValue(0, 'must be a finite number ≥ 0')), 'must be an array of scales')),
    /** hash64 of the config, tensor list (and storage) and the stored data: detects a corrupt or mismatched weights.bin. */
    hash: nonEmptyString,
  },
  objectMessage,
);

export type StyleEncoderConfig = v.InferOutput<typeof StyleEncoderConfigSchema>;
export type WeightsDtype = (typeof WEIGHTS_DTYPES)[number];
export type StyleWeightsManifest = v.InferOutput<typeof StyleWeightsManifestSchema>;
