#!/usr/bin/python3
"""Builds the tiny BERT sentence-embedding fixture used by the SynopsisEncoder tests.

There is no model hub here, so the tests load a model we make ourselves: a 2-layer BERT with
random (seeded) weights, a hand-written WordPiece tokenizer.json, exported to ONNX in the folder
layout transformers.js expects for a local model. It also writes reference.json: token ids and
mean-pooled, L2-normalised embeddings computed here in PyTorch, so the TypeScript side is checked
against an independent implementation (tokenizer and model both).

Run:  /usr/bin/python3 scripts/make-tiny-model.py
Needs Debian's python3-torch and python3-onnx. Rerunning reproduces the same files byte for byte
(fixed seed, sorted vocabulary, deterministic JSON); the script checks that ONNX export is stable.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import sys
import unicodedata
from collections import Counter
from pathlib import Path

import onnx
import torch
from torch import nn

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get('TOONPICK_DATA', '/work/shared/data'))
OUT = ROOT / 'tests' / 'fixtures' / 'models' / 'toonpick' / 'tiny-bert'

SEED = 20240611
HIDDEN = 32
HEADS = 2
INTERMEDIATE = 64
LAYERS = 2
MAX_POSITIONS = 128
TYPE_VOCAB = 2
LN_EPS = 1e-12
OPSET = 14

SPECIALS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']
PAD_ID, UNK_ID, CLS_ID, SEP_ID, MASK_ID = range(5)

# Common English words, so English text is not all single letters.
ENGLISH_WORDS = """
the a an and or but of to in on at for with from by as is are was were be been being it its this that
these those there here he she they we you i me him her them us my your his their our what who which when
where why how not no yes all any some one two three man woman men women boy girl child children people
person dog cat horse bird fish car bus train plane airplane boat street road city house home school
world life love story time day night year new old young good bad big small large little long short
first last great high best man's playing plays play is riding rides walking walks running runs eating
eats cooking cooks cutting cuts slicing talking sitting standing dancing singing guitar piano flute
music water ball game hero heroes villain magic sword king queen prince princess dragon ghost school
fantasy romance action comedy drama thriller horror mystery daily sports martial arts webtoon comic
episode chapter season free read reader recommend recommendation
""".split()

# Texts with their embeddings in reference.json. They exercise Korean, English (case folding),
# digits/punctuation, unknown words, CJK ideograph splitting, truncation and the empty string.
LONG_KO = (
    '평범한 고등학생이던 주인공은 어느 날 갑자기 이상한 세계로 떨어지고, 그곳에서 살아남기 위해 '
    '동료들과 함께 모험을 떠난다. '
) * 6
REFERENCE_TEXTS = [
    '비행기가 이륙하고 있다.',
    '한 남자가 큰 플루트를 연주하고 있다.',
    '외계인이 유일신으로 군림한 미친 세상, 바꾸고싶다면 사탄이 되어라',
    'A man is playing a large flute.',
    'A Man Is PLAYING the Guitar!',
    'Toonpick 추천: 로맨스 판타지 웹툰 2024!',
    'Café ☕ 웹툰 漢字 time',
    LONG_KO,
    '',
]


# ---------------------------------------------------------------------------------------------
# Vocabulary


def hangul_syllables() -> list[str]:
    """Every Hangul syllable in the KorSTS train sentences and the catalogue titles/synopses."""
    seen: Counter[str] = Counter()

    def add(text: str) -> None:
        for ch in text:
            if 0xAC00 <= ord(ch) <= 0xD7A3:
                seen[ch] += 1

    with open(DATA / 'korsts' / 'sts-train.tsv', encoding='utf-8') as f:
        next(f)  # header
        for line in f:
            parts = line.rstrip('\n').split('\t')
            for s in parts[5:7]:
                add(s)
    with open(DATA / 'webtoons' / 'catalog.jsonl', encoding='utf-8') as f:
        for line in f:
            if line.strip():
                item = json.loads(line)
                add(item.get('title') or '')
                add(item.get('synopsis') or '')
    # All of them fit (about 1.3k); keep the most frequent 3000 should the data grow. Sorted by
    # code point so the vocabulary does not depend on frequency ties.
    return sorted(ch for ch, _ in seen.most_common(3000))


def build_vocab() -> list[str]:
    vocab: list[str] = list(SPECIALS)
    seen = set(vocab)

    def add(tok: str) -> None:
        if tok not in seen:
            seen.add(tok)
            vocab.append(tok)

    for ch in (chr(c) for c in range(33, 127)):
        if not ch.isupper():  # the normaliser lowercases, so capitals can never occur
            add(ch)
    for ch in 'abcdefghijklmnopqrstuvwxyz0123456789':
        add('##' + ch)
    for w in sorted(set(ENGLISH_WORDS)):
        if all(not is_punctuation(c) for c in w):  # "man's" would be split anyway
            add(w)
    for s in hangul_syllables():
        add(s)
        add('##' + s)
    return vocab


# ---------------------------------------------------------------------------------------------
# Tokenizer (a Python twin of BertNormalizer + BertPreTokenizer + WordPiece as configured in
# tokenizer.json; written to follow @huggingface/tokenizers' JS semantics for the inputs we use)

JS_WHITESPACE = set('\t\n\v\f\r \u00a0\u1680\u2028\u2029\u202f\u205f\u3000\ufeff') | {
    chr(c) for c in range(0x2000, 0x200B)
}


def is_punctuation(ch: str) -> bool:
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith('P')


def is_chinese_char(cp: int) -> bool:
    return (
        0x4E00 <= cp <= 0x9FFF
        or 0x3400 <= cp <= 0x4DBF
        or 0x20000 <= cp <= 0x2A6DF
        or 0x2A700 <= cp <= 0x2B73F
        or 0x2B740 <= cp <= 0x2B81F
        or 0x2B820 <= cp <= 0x2CEAF
        or 0xF900 <= cp <= 0xFAFF
        or 0x2F800 <= cp <= 0x2FA1F
    )


def normalize(text: str) -> str:
    out = []
    for ch in text:  # clean_text
        if ch in ('\0', '\ufffd'):
            continue
        if ch not in '\t\n\r' and unicodedata.category(ch) in ('Cc', 'Cf', 'Co', 'Cs'):
            continue
        out.append(' ' if ch in JS_WHITESPACE else ch)
    text = ''.join(out)
    text = ''.join(f' {ch} ' if is_chinese_char(ord(ch)) else ch for ch in text)
    # lowercase, but strip_accents is off: NFD would break Hangul syllables into jamo.
    return text.lower()


def pre_tokenize(text: str) -> list[str]:
    words: list[str] = []
    cur: list[str] = []
    for ch in text:
        if ch in JS_WHITESPACE or is_punctuation(ch):
            if cur:
                words.append(''.join(cur))
                cur = []
            if is_punctuation(ch):
                words.append(ch)
        else:
            cur.append(ch)
    if cur:
        words.append(''.join(cur))
    return words


def wordpiece(word: str, vocab: dict[str, int], max_chars: int = 100) -> list[str]:
    chars = list(word)
    if len(chars) > max_chars:
        return ['[UNK]']
    pieces: list[str] = []
    start = 0
    while start < len(chars):
        end = len(chars)
        found = None
        while start < end:
            sub = ''.join(chars[start:end])
            if start > 0:
                sub = '##' + sub
            if sub in vocab:
                found = sub
                break
            end -= 1
        if found is None:
            return ['[UNK]']
        pieces.append(found)
        start = end
    return pieces


def encode(text: str, vocab: dict[str, int], max_length: int = MAX_POSITIONS) -> list[int]:
    """[CLS] pieces [SEP], with the pieces cut so the whole fits max_length (HF truncation)."""
    pieces = [p for w in pre_tokenize(normalize(text)) for p in wordpiece(w, vocab)]
    ids = [vocab[p] for p in pieces][: max_length - 2]
    return [CLS_ID, *ids, SEP_ID]


def tokenizer_json(vocab: list[str]) -> dict:
    return {
        'version': '1.0',
        'truncation': None,
        'padding': None,
        'added_tokens': [
            {
                'id': i,
                'content': tok,
                'single_word': False,
                'lstrip': False,
                'rstrip': False,
                'normalized': False,
                'special': True,
            }
            for i, tok in enumerate(SPECIALS)
        ],
        'normalizer': {
            'type': 'BertNormalizer',
            'clean_text': True,
            'handle_chinese_chars': True,
            'strip_accents': False,
            'lowercase': True,
        },
        'pre_tokenizer': {'type': 'BertPreTokenizer'},
        'post_processor': {
            'type': 'TemplateProcessing',
            'single': [
                {'SpecialToken': {'id': '[CLS]', 'type_id': 0}},
                {'Sequence': {'id': 'A', 'type_id': 0}},
                {'SpecialToken': {'id': '[SEP]', 'type_id': 0}},
            ],
            'pair': [
                {'SpecialToken': {'id': '[CLS]', 'type_id': 0}},
                {'Sequence': {'id': 'A', 'type_id': 0}},
                {'SpecialToken': {'id': '[SEP]', 'type_id': 0}},
                {'Sequence': {'id': 'B', 'type_id': 1}},
                {'SpecialToken': {'id': '[SEP]', 'type_id': 1}},
            ],
            'special_tokens': {
                tok: {'id': tok, 'ids': [SPECIALS.index(tok)], 'tokens': [tok]} for tok in ('[CLS]', '[SEP]')
            },
        },
        'decoder': {'type': 'WordPiece', 'prefix': '##', 'cleanup': True},
        'model': {
            'type': 'WordPiece',
            'unk_token': '[UNK]',
            'continuing_subword_prefix': '##',
            'max_input_chars_per_word': 100,
            'vocab': {tok: i for i, tok in enumerate(vocab)},
        },
    }


# ---------------------------------------------------------------------------------------------
# Model: the HF BertModel forward pass (post-LN, exact-erf GELU, additive attention mask)


class Layer(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.query = nn.Linear(HIDDEN, HIDDEN)
        self.key = nn.Linear(HIDDEN, HIDDEN)
        self.value = nn.Linear(HIDDEN, HIDDEN)
        self.attn_out = nn.Linear(HIDDEN, HIDDEN)
        self.attn_norm = nn.LayerNorm(HIDDEN, eps=LN_EPS)
        self.intermediate = nn.Linear(HIDDEN, INTERMEDIATE)
        self.output = nn.Linear(INTERMEDIATE, HIDDEN)
        self.out_norm = nn.LayerNorm(HIDDEN, eps=LN_EPS)

    def split(self, x: torch.Tensor) -> torch.Tensor:
        b, t, _ = x.shape
        return x.view(b, t, HEADS, HIDDEN // HEADS).transpose(1, 2)

    def forward(self, h: torch.Tensor, additive_mask: torch.Tensor) -> torch.Tensor:
        q, k, v = self.split(self.query(h)), self.split(self.key(h)), self.split(self.value(h))
        scores = q @ k.transpose(-1, -2) / math.sqrt(HIDDEN // HEADS) + additive_mask
        ctx = torch.softmax(scores, dim=-1) @ v
        b, _, t, _ = ctx.shape
        ctx = ctx.transpose(1, 2).reshape(b, t, HIDDEN)
        h = self.attn_norm(h + self.attn_out(ctx))
        return self.out_norm(h + self.output(nn.functional.gelu(self.intermediate(h))))


class TinyBert(nn.Module):
    def __init__(self, vocab_size: int) -> None:
        super().__init__()
        self.word = nn.Embedding(vocab_size, HIDDEN)
        self.position = nn.Embedding(MAX_POSITIONS, HIDDEN)
        self.token_type = nn.Embedding(TYPE_VOCAB, HIDDEN)
        self.emb_norm = nn.LayerNorm(HIDDEN, eps=LN_EPS)
        self.layers = nn.ModuleList(Layer() for _ in range(LAYERS))

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor) -> torch.Tensor:
        t = input_ids.shape[1]
        positions = torch.arange(t, dtype=torch.long).unsqueeze(0)
        h = self.emb_norm(self.word(input_ids) + self.position(positions) + self.token_type(token_type_ids))
        m = attention_mask[:, None, None, :].to(h.dtype)
        additive = (1.0 - m) * torch.finfo(h.dtype).min
        for layer in self.layers:
            h = layer(h, additive)
        return h


def init_weights(model: TinyBert) -> None:
    """Random but well-scaled, so different sentences map to clearly different vectors."""
    g = torch.Generator().manual_seed(SEED)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith('norm.weight'):
                p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=g))
            elif name.endswith('bias'):
                p.copy_(0.05 * torch.randn(p.shape, generator=g))
            elif p.dim() == 2 and 'word' not in name and 'position' not in name and 'token_type' not in name:
                p.copy_(torch.randn(p.shape, generator=g) / math.sqrt(p.shape[1]))  # Linear: out×in
            elif 'word' in name:
                p.copy_(torch.randn(p.shape, generator=g))
            else:
                # Position and token-type vectors are added to every token alike; kept small so
                # they do not become a shared direction that makes all sentence means look alike.
                p.copy_(0.1 * torch.randn(p.shape, generator=g))


def mean_pool_normalize(h: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    m = mask.unsqueeze(-1).to(h.dtype)
    pooled = (h * m).sum(1) / m.sum(1).clamp(min=1e-9)
    return nn.functional.normalize(pooled, p=2, dim=-1)


def export_onnx(model: TinyBert) -> bytes:
    ids = torch.tensor([[CLS_ID, 10, 11, SEP_ID], [CLS_ID, 12, SEP_ID, PAD_ID]], dtype=torch.long)
    mask = (ids != PAD_ID).long()
    types = torch.zeros_like(ids)
    buf = io.BytesIO()
    torch.onnx.export(
        model,
        (ids, mask, types),
        buf,
        input_names=['input_ids', 'attention_mask', 'token_type_ids'],
        output_names=['last_hidden_state'],
        dynamic_axes={
            'input_ids': {0: 'batch_size', 1: 'sequence_length'},
            'attention_mask': {0: 'batch_size', 1: 'sequence_length'},
            'token_type_ids': {0: 'batch_size', 1: 'sequence_length'},
            'last_hidden_state': {0: 'batch_size', 1: 'sequence_length'},
        },
        opset_version=OPSET,
        do_constant_folding=True,
    )
    proto = onnx.load_from_string(buf.getvalue())
    onnx.checker.check_model(proto)
    # Drop the exporter's version string so the bytes do not change with the torch patch level.
    proto.producer_version = ''
    return proto.SerializeToString()


# ---------------------------------------------------------------------------------------------


def dump_json(obj: object) -> str:
    return json.dumps(obj, ensure_ascii=False, indent=2) + '\n'


def main() -> None:
    torch.manual_seed(SEED)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)  # reductions in one fixed order: the references stay bit-stable

    vocab = build_vocab()
    vocab_ids = {tok: i for i, tok in enumerate(vocab)}

    model = TinyBert(len(vocab))
    init_weights(model)
    model.eval()

    files: dict[str, bytes] = {}
    config = {
        'architectures': ['BertModel'],
        'model_type': 'bert',
        'vocab_size': len(vocab),
        'hidden_size': HIDDEN,
        'num_hidden_layers': LAYERS,
        'num_attention_heads': HEADS,
        'intermediate_size': INTERMEDIATE,
        'hidden_act': 'gelu',
        'hidden_dropout_prob': 0.0,
        'attention_probs_dropout_prob': 0.0,
        'max_position_embeddings': MAX_POSITIONS,
        'type_vocab_size': TYPE_VOCAB,
        'layer_norm_eps': LN_EPS,
        'initializer_range': 0.02,
        'pad_token_id': PAD_ID,
        'position_embedding_type': 'absolute',
        'torch_dtype': 'float32',
    }
    files['config.json'] = dump_json(config).encode()
    files['tokenizer.json'] = json.dumps(tokenizer_json(vocab), ensure_ascii=False, separators=(',', ':')).encode()
    files['tokenizer_config.json'] = dump_json(
        {
            'tokenizer_class': 'BertTokenizer',
            'model_max_length': MAX_POSITIONS,
            'do_lower_case': True,
            'strip_accents': False,
            'tokenize_chinese_chars': True,
            'clean_up_tokenization_spaces': True,
            'pad_token': '[PAD]',
            'unk_token': '[UNK]',
            'cls_token': '[CLS]',
            'sep_token': '[SEP]',
            'mask_token': '[MASK]',
        }
    ).encode()
    files['special_tokens_map.json'] = dump_json(
        {'pad_token': '[PAD]', 'unk_token': '[UNK]', 'cls_token': '[CLS]', 'sep_token': '[SEP]', 'mask_token': '[MASK]'}
    ).encode()

    onnx_bytes = export_onnx(model)
    if export_onnx(model) != onnx_bytes:
        sys.exit('ONNX export is not deterministic; the fixture would churn on every rerun')
    files['onnx/model.onnx'] = onnx_bytes

    # References: each text on its own (no padding), straight from the PyTorch module.
    refs = []
    with torch.no_grad():
        for text in REFERENCE_TEXTS:
            ids = encode(text, vocab_ids)
            t = torch.tensor([ids], dtype=torch.long)
            mask = torch.ones_like(t)
            emb = mean_pool_normalize(model(t, mask, torch.zeros_like(t)), mask)[0]
            refs.append(
                {
                    'text': text,
                    'tokens': [vocab[i] for i in ids],
                    'input_ids': ids,
                    # 8 significant digits: far below the 1e-4 test tolerance, and short.
                    'embedding': [float(f'{x:.8g}') for x in emb.tolist()],
                }
            )
    # Sanity: the references must be distinct enough to catch a wrong model or pooling.
    embs = torch.tensor([r['embedding'] for r in refs])
    cos = embs @ embs.T
    off = cos[~torch.eye(len(refs), dtype=torch.bool)]
    if off.max().item() > 0.95:
        sys.exit(f'reference embeddings too similar (max cosine {off.max().item():.4f})')
    if not any(len(r['input_ids']) == MAX_POSITIONS for r in refs):
        sys.exit('no reference text reaches the truncation length')

    files['reference.json'] = dump_json(
        {
            'about': 'Generated by scripts/make-tiny-model.py. Embeddings: mean over attention mask, then L2, in PyTorch.',
            'model_id': 'toonpick/tiny-bert',
            'max_length': MAX_POSITIONS,
            'dim': HIDDEN,
            'max_offdiagonal_cosine': round(off.max().item(), 4),
            'items': refs,
        }
    ).encode()

    for rel, data in files.items():
        path = OUT / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    total = sum(len(d) for d in files.values())
    for rel, data in sorted(files.items()):
        print(f'{len(data):>9}  {hashlib.sha256(data).hexdigest()[:16]}  {rel}')
    print(f'{total:>9}  total, vocab {len(vocab)}, max off-diagonal cosine {off.max().item():.4f}')


if __name__ == '__main__':
    main()
