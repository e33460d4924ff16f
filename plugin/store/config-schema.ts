import { z } from 'zod';

/** `store`: where connections and their token sets live (`BANKGATE_STORE`). */
export const storeSchema = z.enum(['memory']).default('memory');
export type StoreConfig = z.output<typeof storeSchema>;
