#!/usr/bin/env bash
# The package as a CDK user gets it: `npm pack`, a fresh `cdk init`-style TypeScript app with the
# oldest supported aws-cdk-lib and constructs (package.json peerDependencies), the README's example
# as bin/app.ts, then `tsc` and `cdk synth` through ts-node (the classic commonjs template) and
# through tsx (the current NodeNext template), both with exactOptionalPropertyTypes added.
# skipLibCheck stays on as the templates have it: aws-cdk-lib's own .d.ts do not compile under
# exactOptionalPropertyTypes, so no CDK app can turn it off.
# Offline apart from the npm registry; installs come from the npm cache when it holds them.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
started=$SECONDS
step() { echo "consumer-check [$((SECONDS - started))s] $*"; }

peer() { node -p "require('$repo/package.json').peerDependencies['$1'].replace(/^[\\^~>=]+/, '')"; }
dev() { node -p "require('$repo/package.json').devDependencies['$1']"; }
cdk_lib="$(peer aws-cdk-lib)"
constructs="$(peer constructs)"

step "npm pack"
(cd "$repo" && npm pack --silent --pack-destination "$work" >/dev/null)
tarball="$(ls "$work"/erasure-orchestrator-*.tgz)"
# Only the allow-list: compiled code, handler bundles, the bin, README and licence.
unexpected="$(tar -tzf "$tarball" | grep -Ev '^package/(dist/|bin/erasure\.js$|README\.md$|LICENSE$|package\.json$)' || true)"
if [ -n "$unexpected" ]; then
  echo "unexpected files in the tarball:"; echo "$unexpected"; exit 1
fi
if tar -tzf "$tarball" | grep -E '\.ts$' | grep -v '\.d\.ts$'; then
  echo "TypeScript sources in the tarball"; exit 1
fi

app="$work/shop"
mkdir -p "$app/bin"
cp "$repo/test/package/app.ts" "$app/bin/app.ts"
cat >"$app/package.json" <<JSON
{ "name": "shop", "version": "0.1.0", "private": true }
JSON
# `cdk init app --language typescript` before it moved to NodeNext and tsx: commonjs, ts-node.
# Stricter than the template where a consumer may be: exactOptionalPropertyTypes.
cat >"$app/tsconfig.json" <<'JSON'
{
  "compilerOptions": {
    "target": "ES2020", "module": "commonjs", "lib": ["es2020", "dom"], "declaration": true,
    "strict": true, "noImplicitAny": true, "strictNullChecks": true, "noImplicitThis": true,
    "alwaysStrict": true, "noImplicitReturns": true, "inlineSourceMap": true, "inlineSources": true,
    "experimentalDecorators": true, "strictPropertyInitialization": false,
    "exactOptionalPropertyTypes": true, "skipLibCheck": true,
    "typeRoots": ["./node_modules/@types"]
  },
  "exclude": ["node_modules", "cdk.out"]
}
JSON
# Today's template (aws-cdk's init-templates/app/typescript/tsconfig.json), run with tsx.
cat >"$app/tsconfig.nodenext.json" <<'JSON'
{
  "compilerOptions": {
    "target": "ES2022", "module": "NodeNext", "moduleResolution": "NodeNext", "lib": ["es2022"],
    "declaration": true, "strict": true, "noImplicitReturns": true, "isolatedModules": true,
    "experimentalDecorators": true, "strictPropertyInitialization": false, "noEmit": true,
    "exactOptionalPropertyTypes": true, "skipLibCheck": true,
    "typeRoots": ["./node_modules/@types"], "types": ["node"]
  },
  "exclude": ["node_modules", "cdk.out"]
}
JSON

step "npm install (aws-cdk-lib $cdk_lib, constructs $constructs)"
(cd "$app" && npm install --no-audit --no-fund --prefer-offline --loglevel=error \
  "$tarball" "aws-cdk-lib@$cdk_lib" "constructs@$constructs" \
  "typescript@$(dev typescript)" "tsx@$(dev tsx)" "ts-node@10.9.2" "@types/node@$(dev @types/node)" >/dev/null)
# No second copy of aws-cdk-lib under the package: it is a peer, not a dependency.
if [ -d "$app/node_modules/erasure-orchestrator/node_modules/aws-cdk-lib" ]; then
  echo "a nested aws-cdk-lib was installed"; exit 1
fi

step "tsc (commonjs, ts-node's tsconfig)"
(cd "$app" && npx --no-install tsc --noEmit -p tsconfig.json)
step "tsc (NodeNext)"
(cd "$app" && npx --no-install tsc --noEmit -p tsconfig.nodenext.json)

cdk="$repo/node_modules/.bin/cdk"
synth() {
  local name="$1" command="$2"
  step "cdk synth via $name"
  (cd "$app" && "$cdk" synth --app "$command" --output "cdk.out.$name" --quiet --no-notices \
    --no-version-reporting >/dev/null)
  node -e "
    const t = require('$app/cdk.out.$name/Shop.template.json');
    const fns = Object.values(t.Resources).filter((r) => r.Type === 'AWS::Lambda::Function');
    if (fns.length < 3) throw new Error('expected the orchestrator functions, found ' + fns.length);
    const assets = require('fs').readdirSync('$app/cdk.out.$name').filter((f) => f.startsWith('asset.'));
    const withConfig = assets.filter((a) => require('fs').existsSync('$app/cdk.out.$name/' + a + '/config.json'));
    if (withConfig.length < 3) throw new Error('expected pre-built handlers with config.json, found ' + withConfig.length);
  "
}
# Types were checked by tsc above: ts-node only transpiles (the same code, half the time).
synth ts-node "npx ts-node --prefer-ts-exts --transpile-only bin/app.ts"
synth tsx "npx tsx bin/app.ts"
step "ok"
