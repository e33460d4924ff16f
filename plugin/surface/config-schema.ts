import { z } from 'zod';
import { secretRefSchema } from '../config/secret-ref.js';

/** `callers`: who may call the gateway. */
export const callersSchema = z
  .strictObject({
    /** Static development key; when absent, `BANKGATE_DEV_KEY`, else one is generated at start and printed. */
    devKey: secretRefSchema.optional(),
  })
  .default({});
