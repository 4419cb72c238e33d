-- Model kinds (ngram, encoder, ensemble): what each version is made of. artifact_hash stays the version's
-- primary artifact (the n-gram graph of an ngram or ensemble version, the encoder graph of an encoder one);
-- components lists every artifact with its kind and settings, combination holds an ensemble's weights.
alter table ml.model_versions
    add column kind        text  not null default 'ngram' check (kind in ('ngram', 'encoder', 'ensemble')),
    add column components  jsonb not null default '[]',
    add column combination jsonb;

update ml.model_versions
   set components = jsonb_build_array(jsonb_build_object('kind', 'ngram', 'artifact', artifact_hash, 'size', artifact_size));
