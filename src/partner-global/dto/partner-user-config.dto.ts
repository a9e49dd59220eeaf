import { ApiProperty } from '@nestjs/swagger';
import { SubjectIdField } from '../../common/http/subject-id.decorator';
import { AccountField } from '../../two-factor/http/config-fields';
import { ConfigListQueryFields, ConfigPageFields, ConfigResponseFields } from '../../two-factor/http/config.dto';

const PARTNER_USER_ID = { description: 'The partner user', example: 'pu-10042' };

export class CreatePartnerUserConfigRequest {
  @SubjectIdField(PARTNER_USER_ID)
  partneruserid!: string;

  @AccountField()
  account?: string;
}

export class ListPartnerUserConfigsQuery extends ConfigListQueryFields {
  @SubjectIdField({ ...PARTNER_USER_ID, optional: true })
  partneruserid?: string;
}

export class PartnerUserConfigResponse extends ConfigResponseFields {
  @ApiProperty({ type: String, ...PARTNER_USER_ID })
  partneruserid!: string;
}

export class PartnerUserConfigPage extends ConfigPageFields {
  @ApiProperty({ type: [PartnerUserConfigResponse] })
  items!: PartnerUserConfigResponse[];
}
