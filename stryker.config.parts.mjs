// One part of src/ per Stryker run (`npm run mutate:parts`): MUTATE_PART names the files, MUTATE_NAME
// the part. Each part keeps its own report and incremental file, so that a run that is stopped
// loses only its part; scripts/mutation-report.mjs adds the parts up.
import base from './stryker.config.mjs'

const name = process.env.MUTATE_NAME ?? 'all'
const part = process.env.MUTATE_PART ?? 'src/**/*.ts'

export default {
  ...base,
  mutate: [part, ...base.mutate.filter(pattern => pattern.startsWith('!'))],
  reporters: ['progress', 'json'],
  jsonReporter: { fileName: `reports/mutation/parts/${name}.json` },
  incrementalFile: `reports/mutation/parts/${name}.incremental.json`
}
