import { loadConfig } from './config/config';
import { createOrmOptions } from './mikro-orm.config';

// The mikro-orm CLI reads the default export of its config file; this is the only default
// export in the project, for that tool.
// eslint-disable-next-line no-restricted-syntax
export default createOrmOptions(loadConfig().database);
