/**
 * The names of every ranking space, in one place: snapshots store them, the ranker and the tuner key weights by
 * them, the string tables name them to readers. A new space adds its name here.
 */
export const GENRE_SPACE = 'genre';
export const LEXICAL_SPACE = 'lexical';
export const STS_SPACE = 'sts';
export const STYLE_SPACE = 'style';
export const GRAM_SPACE = 'gram';
/** The community item-item model (collaborative filtering). */
export const CF_SPACE = 'cf';
/** The sequential next-title model. */
export const SEQUENCE_SPACE = 'sequence';
/** How many of the community's readers read each title. */
export const POPULARITY_SPACE = 'popularity';
