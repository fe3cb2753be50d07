import { PostgresDialect, sql, type DatabaseIntrospector, type DatabaseMetadata, type DatabaseMetadataOptions, type Kysely, type SchemaMetadata, type TableMetadata } from 'kysely';

/**
 * Kysely's Postgres introspector reads the columns of every table in every schema of the database, calling
 * `pg_get_serial_sequence` on each, and the migrator runs it at every start. When another schema of the
 * same database is being dropped at that moment (another deployment, another test suite), that call fails
 * and the start fails with it. This one reads the service's own schema only (`current_schema()`, the
 * search path the store was opened with), which is all the migrator needs.
 */
class CurrentSchemaIntrospector implements DatabaseIntrospector {
  constructor(private readonly db: Kysely<any>) {}

  async getSchemas(): Promise<SchemaMetadata[]> {
    const { rows } = await sql<{ name: string }>`select nspname as name from pg_catalog.pg_namespace where nspname !~ '^pg_' and nspname <> 'information_schema'`.execute(this.db);
    return rows;
  }

  async getTables(options: DatabaseMetadataOptions = { withInternalKyselyTables: false }): Promise<TableMetadata[]> {
    const { rows } = await sql<{ schema: string; table: string; type: string; column: string | null; data_type: string | null; nullable: string | null; default_value: string | null; identity: string | null }>`
      select t.table_schema as schema, t.table_name as table, t.table_type as type, c.column_name as column,
             c.udt_name as data_type, c.is_nullable as nullable, c.column_default as default_value, c.is_identity as identity
      from information_schema.tables t
      left join information_schema.columns c on c.table_schema = t.table_schema and c.table_name = t.table_name
      where t.table_schema = current_schema()
      order by t.table_name, c.ordinal_position`.execute(this.db);
    const tables = new Map<string, TableMetadata & { columns: TableMetadata['columns'][number][] }>();
    for (const row of rows) {
      if (!options.withInternalKyselyTables && row.table.startsWith('kysely_')) continue;
      let table = tables.get(row.table);
      if (!table) {
        table = { name: row.table, schema: row.schema, isView: row.type === 'VIEW', columns: [] };
        tables.set(row.table, table);
      }
      if (row.column === null) continue;
      const serial = row.identity === 'YES' || (row.default_value ?? '').startsWith('nextval(');
      table.columns.push({
        name: row.column,
        dataType: row.data_type ?? '',
        isNullable: row.nullable === 'YES',
        isAutoIncrementing: serial,
        hasDefaultValue: row.default_value !== null || serial,
      });
    }
    return [...tables.values()];
  }

  async getMetadata(options?: DatabaseMetadataOptions): Promise<DatabaseMetadata> {
    return { tables: await this.getTables(options) };
  }
}

/** Kysely's Postgres dialect, introspecting only the store's own schema (see above). */
export class OwnSchemaPostgresDialect extends PostgresDialect {
  override createIntrospector(db: Kysely<any>): DatabaseIntrospector {
    return new CurrentSchemaIntrospector(db);
  }
}
