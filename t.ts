import { openStore } from './src/store/index.js';
import { planSegments } from './src/segments/segment-plan.js';
import { segmentCompiler } from './src/segments/segment-compiler.js';
import { ConditionSchema } from './src/core/index.js';
const conds = [
 {kind:'all', conditions:[{kind:'event', event:'Viewed', window:{kind:'last', amount:7, unit:'days'}, measure:{kind:'count', test:{operator:'at_least', value:2}}},{kind:'event', event:'Purchase', performed:false, window:{kind:'last', amount:7, unit:'days'}}]},
 {kind:'sequence', first:{event:'Viewed', where:[{property:'sku', test:{operator:'starts_with', value:'a'}}]}, then:{event:'Purchase'}, within:{amount:1, unit:'days'}, followed:false},
 {kind:'attribute', attribute:'country', test:{operator:'in', values:['UK', 'France']}},
 {kind:'trait', trait:'first_seen', test:{operator:'within_last', amount:30, unit:'days'}},
 {kind:'rank', metric:{kind:'event', event:'Purchase', function:'sum', property:'revenue'}, direction:'top', percent:20},
 {kind:'event', event:'Purchase', measure:{kind:'aggregate', function:'distinct_count', property:'sku', test:{operator:'between', min:1, max:3}}},
].map((c,i)=>({id:'s'+i, condition: ConditionSchema.parse(c)}));
for (const url of [undefined, 'postgres://postgres@127.0.0.1:5432/test']) {
  const store = await openStore({dataDir:'/tmp/segtest-'+Date.now(), databaseUrl:url, schema:'segtest_'+Date.now()});
  const plan = planSegments(conds, () => undefined);
  const c = segmentCompiler(store.db.dialect).compile(plan, new Date());
  if (!url) console.log(c.sql, c.params);
  console.log(await store.db.query(c.sql, c.params));
  await store.close();
}
